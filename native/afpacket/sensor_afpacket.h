/* Sensor's AF_PACKET capture backend: a TPACKET_V3 receive ring per socket, sockets of one interface
 * joined in a hash fanout group so the kernel keeps each flow on one socket (and one capture thread).
 * Every function returning int returns a negative errno on failure. Not thread-safe per handle except
 * sensor_afp_stats, which may run beside the reading thread (it only calls getsockopt). */
#ifndef SENSOR_AFPACKET_H
#define SENSOR_AFPACKET_H

#include <stdint.h>
#include <linux/filter.h>
#include <linux/if_packet.h>

#define SENSOR_AFP_EXPORT __attribute__((visibility("default")))

/* Bumped whenever a signature changes, so the managed side refuses a stale build of the library. */
#define SENSOR_AFP_ABI_VERSION 1

typedef struct sensor_afp sensor_afp;

SENSOR_AFP_EXPORT int sensor_afp_abi_version(void);

/* ARPHRD_* hardware type of the interface (SIOCGIFHWADDR): decides the link type of the frames. */
SENSOR_AFP_EXPORT int sensor_afp_iface_type(const char *ifname);

/* Opens a socket on ifname with a block_count x block_size ring (block_size a page multiple; frame_size
 * only sizes tp_frame_nr in V3), partly filled blocks retired after retire_tov_ms. filter (filter_len
 * classic BPF instructions, NULL/0 for none) is attached before the socket is bound, so no unfiltered
 * frame reaches the ring. Frames of both directions are captured (on loopback each frame twice: the
 * reader skips PACKET_OUTGOING there; PACKET_IGNORE_OUTGOING would not apply once fanout is joined). */
SENSOR_AFP_EXPORT int sensor_afp_open(const char *ifname, uint32_t block_size, uint32_t block_count,
                                      uint32_t frame_size, uint32_t retire_tov_ms, int promisc,
                                      const struct sock_filter *filter, uint32_t filter_len,
                                      sensor_afp **out);

/* Joins fanout group group_id (a symmetric BPF demultiplexer: IPv4 addresses and ports after
 * defragmentation, IPv6 address pair); group_id < 0 lets the kernel choose an id unused in this network namespace. Returns
 * the group id to pass for the other sockets. */
SENSOR_AFP_EXPORT int sensor_afp_join_fanout(sensor_afp *h, int group_id);

/* 1 and *block = the next block owned by user space; 0 when none arrived within timeout_ms. */
SENSOR_AFP_EXPORT int sensor_afp_next_block(sensor_afp *h, int timeout_ms, struct tpacket_block_desc **block);

/* Hands the block returned by sensor_afp_next_block back to the kernel. */
SENSOR_AFP_EXPORT void sensor_afp_release_block(sensor_afp *h);

/* Kernel counters since the previous call (the kernel resets them on every read). */
SENSOR_AFP_EXPORT int sensor_afp_stats(sensor_afp *h, uint32_t *packets, uint32_t *drops, uint32_t *freezes);

SENSOR_AFP_EXPORT void sensor_afp_close(sensor_afp *h);

#endif
