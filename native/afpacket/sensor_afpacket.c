#define _GNU_SOURCE
#include "sensor_afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct sensor_afp {
    int fd;
    uint8_t *ring;
    size_t ring_len;
    uint32_t block_size;
    uint32_t block_count;
    uint32_t current;
};

int sensor_afp_abi_version(void) { return SENSOR_AFP_ABI_VERSION; }

int sensor_afp_iface_type(const char *ifname)
{
    if (!ifname || !*ifname) return -EINVAL;
    if (strlen(ifname) >= IFNAMSIZ) return -ENODEV;
    /* Any socket serves for the ioctl; a datagram socket needs no privilege. */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    int rc = ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ? -errno : ifr.ifr_hwaddr.sa_family;
    close(fd);
    return rc;
}

static int setopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
}

int sensor_afp_open(const char *ifname, uint32_t block_size, uint32_t block_count, uint32_t frame_size,
                    uint32_t retire_tov_ms, int promisc, const struct sock_filter *filter, uint32_t filter_len,
                    sensor_afp **out)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (block_size == 0 || block_count == 0 || frame_size == 0 || frame_size > block_size) return -EINVAL;
    if (filter_len > BPF_MAXINSNS || (filter_len > 0 && !filter)) return -EINVAL;
    if ((uint64_t)(block_size / frame_size) * block_count > UINT32_MAX) return -EINVAL;

    if (!ifname || strlen(ifname) >= IFNAMSIZ) return -ENODEV;
    unsigned ifindex = if_nametoindex(ifname);
    if (ifindex == 0) return -errno;

    sensor_afp *h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    h->ring = MAP_FAILED;
    h->block_size = block_size;
    h->block_count = block_count;
    int rc;

    /* Protocol 0: the socket receives nothing until bind(), which comes after the filter. */
    h->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (h->fd < 0) { rc = -errno; goto fail; }

    int version = TPACKET_V3;
    if ((rc = setopt(h->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version)) < 0) goto fail;

    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_count;
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = (block_size / frame_size) * block_count;
    req.tp_retire_blk_tov = retire_tov_ms;
    if ((rc = setopt(h->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) < 0) goto fail;

    h->ring_len = (size_t)block_size * block_count;
    h->ring = mmap(NULL, h->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, h->fd, 0);
    if (h->ring == MAP_FAILED) { rc = -errno; goto fail; }

    if (filter_len > 0) {
        struct sock_fprog prog = { .len = (unsigned short)filter_len, .filter = (struct sock_filter *)filter };
        if ((rc = setopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog)) < 0) goto fail;
    }

    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)ifindex;
    if (bind(h->fd, (struct sockaddr *)&sll, sizeof sll) < 0) { rc = -errno; goto fail; }

    /* bind() on a down interface succeeds but leaves ENETDOWN pending; capture starts once it is up. */
    int err = 0;
    socklen_t errlen = sizeof err;
    if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0) { rc = -errno; goto fail; }
    if (err != 0 && err != ENETDOWN) { rc = -err; goto fail; }

    if (promisc) {
        struct packet_mreq mr;
        memset(&mr, 0, sizeof mr);
        mr.mr_ifindex = (int)ifindex;
        mr.mr_type = PACKET_MR_PROMISC;
        if ((rc = setopt(h->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)) < 0) goto fail;
    }

    *out = h;
    return 0;

fail:
    sensor_afp_close(h);
    return rc;
}

/* The fanout demultiplexer: a classic BPF program over the network header (the kernel has pulled the
 * link header, and VLAN tags are metadata), symmetric (xor) so both directions of a connection land on
 * one socket. IPv4 (defragmented by the group's defrag flag) hashes addresses and TCP/UDP ports; IPv6
 * hashes the address pair only, because its fragments carry no ports and must stay with their
 * connection (the kernel's own flow hash separates them). Other protocols go to the first socket. The
 * kernel takes the result modulo the group size. */
#define LD_ABS(size, k) ((struct sock_filter)BPF_STMT(BPF_LD | (size) | BPF_ABS, (uint32_t)(k)))
#define STMT(code, k) ((struct sock_filter)BPF_STMT((code), (uint32_t)(k)))
static int fanout_program(struct sock_filter *p)
{
    /* M[0] = address xor, M[1] = port xor * K2 (0 without ports); result = fold(M[0] * K1 + M[1]).
     * Multiplying mixes the bits before the kernel takes the low ones (modulo the group size). */
    const uint32_t k1 = 0x9E3779B1u, k2 = 0x85EBCA6Bu;
    int n = 0;
    p[n++] = LD_ABS(BPF_W, SKF_AD_OFF + SKF_AD_PROTOCOL);
    int is_v4 = n++;
    p[n++] = STMT(BPF_LD | BPF_IMM, 0);
    p[n++] = STMT(BPF_ST, 1);
    p[n++] = LD_ABS(BPF_W, 12);                        /* source ^ destination */
    p[n++] = STMT(BPF_MISC | BPF_TAX, 0);
    p[n++] = LD_ABS(BPF_W, 16);
    p[n++] = STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
    p[n++] = STMT(BPF_ST, 0);
    p[n++] = LD_ABS(BPF_B, 9);                         /* protocol */
    int is_tcp = n++;
    int is_udp = n++;
    int ports = n;
    p[n++] = STMT(BPF_LDX | BPF_B | BPF_MSH, 0);       /* X = IPv4 header length */
    p[n++] = STMT(BPF_LD | BPF_H | BPF_IND, 0);        /* source port */
    p[n++] = STMT(BPF_ST, 2);
    p[n++] = STMT(BPF_LD | BPF_H | BPF_IND, 2);        /* destination port */
    p[n++] = STMT(BPF_MISC | BPF_TAX, 0);
    p[n++] = STMT(BPF_LD | BPF_MEM, 2);
    p[n++] = STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
    p[n++] = STMT(BPF_ALU | BPF_MUL | BPF_K, k2);
    p[n++] = STMT(BPF_ST, 1);
    int ports_done = n++;
    int v6 = n;
    int is_v6 = n++;
    p[n++] = STMT(BPF_LD | BPF_IMM, 0);
    p[n++] = STMT(BPF_ST, 1);
    p[n++] = LD_ABS(BPF_W, 8);                         /* IPv6 source and destination: 8 words */
    p[n++] = STMT(BPF_MISC | BPF_TAX, 0);
    for (int off = 12; off <= 36; off += 4) {
        p[n++] = LD_ABS(BPF_W, off);
        p[n++] = STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
        p[n++] = STMT(BPF_MISC | BPF_TAX, 0);
    }
    p[n++] = STMT(BPF_ST, 0);
    int common = n;
    p[n++] = STMT(BPF_LD | BPF_MEM, 0);
    p[n++] = STMT(BPF_ALU | BPF_MUL | BPF_K, k1);
    p[n++] = STMT(BPF_LDX | BPF_MEM, 1);
    p[n++] = STMT(BPF_ALU | BPF_ADD | BPF_X, 0);
    p[n++] = STMT(BPF_MISC | BPF_TAX, 0);              /* A ^= A >> 16 */
    p[n++] = STMT(BPF_ALU | BPF_RSH | BPF_K, 16);
    p[n++] = STMT(BPF_ALU | BPF_XOR | BPF_X, 0);
    p[n++] = STMT(BPF_RET | BPF_A, 0);
    int ret0 = n;
    p[n++] = STMT(BPF_RET | BPF_K, 0);
    p[is_v4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, (uint8_t)(v6 - is_v4 - 1));
    p[is_tcp] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, (uint8_t)(ports - is_tcp - 1), 0);
    p[is_udp] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, (uint8_t)(common - is_udp - 1));
    p[ports_done] = STMT(BPF_JMP | BPF_JA, common - ports_done - 1);
    p[is_v6] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, (uint8_t)(ret0 - is_v6 - 1));
    return n;
}

int sensor_afp_join_fanout(sensor_afp *h, int group_id)
{
    if (!h || group_id > 0xffff) return -EINVAL;
    int flags = PACKET_FANOUT_FLAG_DEFRAG | (group_id < 0 ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
    int arg = (group_id < 0 ? 0 : group_id) | ((PACKET_FANOUT_CBPF | flags) << 16);
    int rc = setopt(h->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg);
    if (rc < 0) return rc;
    struct sock_filter insns[64];
    struct sock_fprog prog = { .len = (unsigned short)fanout_program(insns), .filter = insns };
    rc = setopt(h->fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog);
    if (rc < 0) return rc;
    int val = 0;
    socklen_t len = sizeof val;
    if (getsockopt(h->fd, SOL_PACKET, PACKET_FANOUT, &val, &len) < 0) return -errno;
    return val & 0xffff;
}

static struct tpacket_block_desc *block_at(sensor_afp *h, uint32_t i)
{
    return (struct tpacket_block_desc *)(h->ring + (size_t)i * h->block_size);
}

static int user_owns(struct tpacket_block_desc *b)
{
    return (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

int sensor_afp_next_block(sensor_afp *h, int timeout_ms, struct tpacket_block_desc **block)
{
    if (!h || !block) return -EINVAL;
    *block = NULL;
    struct tpacket_block_desc *b = block_at(h, h->current);
    if (!user_owns(b)) {
        struct pollfd pfd = { .fd = h->fd, .events = POLLIN, .revents = 0 };
        int n = poll(&pfd, 1, timeout_ms);
        if (n < 0) return errno == EINTR ? 0 : -errno;
        if (!user_owns(b)) {
            if (pfd.revents & POLLNVAL) return -EBADF;
            if (pfd.revents & POLLERR) {
                /* Reading SO_ERROR clears it; otherwise poll would report it forever (a busy loop). */
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
                if (err != 0) return -err;
            }
            return 0;
        }
    }
    *block = b;
    return 1;
}

void sensor_afp_release_block(sensor_afp *h)
{
    if (!h) return;
    __atomic_store_n(&block_at(h, h->current)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    h->current = (h->current + 1) % h->block_count;
}

int sensor_afp_stats(sensor_afp *h, uint32_t *packets, uint32_t *drops, uint32_t *freezes)
{
    if (!h) return -EINVAL;
    struct tpacket_stats_v3 st;
    memset(&st, 0, sizeof st);
    socklen_t len = sizeof st;
    if (getsockopt(h->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return -errno;
    if (packets) *packets = st.tp_packets;
    if (drops) *drops = st.tp_drops;
    if (freezes) *freezes = st.tp_freeze_q_cnt;
    return 0;
}

void sensor_afp_close(sensor_afp *h)
{
    if (!h) return;
    if (h->ring != MAP_FAILED && h->ring != NULL) munmap(h->ring, h->ring_len);
    if (h->fd >= 0) close(h->fd);
    free(h);
}
