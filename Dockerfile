# Sensor: passive API-traffic sensor. Build and run: see systemd/README.md ("Container").
#   docker build -t sensor:latest .
#   docker run --network host --cap-add NET_RAW --cap-add NET_ADMIN -v sensor-data:/var/lib/sensor sensor:latest --interface eth1
# .NET 10 images are Ubuntu 24.04 (noble); no Debian variant is published.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# gcc/make for the native AF_PACKET library; libc6-dev is only a recommendation of gcc.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY native/ native/
COPY src/ src/
# make first: a failing native build stops here instead of leaving the image without the afpacket
# backend. The publish copies native/build/libsensor_afpacket.so beside sensor.dll.
RUN make -C native \
 && dotnet publish src/Sensor.Cli -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0-noble
# libpcap for the pcap backend (the t64 name is noble's); libcap2-bin only until setcap below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin libpcap0.8t64 \
 && rm -rf /var/lib/apt/lists/*
# Fixed IDs so a volume keeps its owner across image rebuilds.
RUN groupadd --gid 10001 sensor \
 && useradd --no-log-init --uid 10001 --gid sensor --no-create-home --home-dir /var/lib/sensor --shell /usr/sbin/nologin sensor \
 && install -d -o sensor -g sensor -m 0750 /var/lib/sensor
COPY --from=build /app /app
# A non-root process keeps no --cap-add capability across exec; file capabilities on the apphost (it
# hosts the runtime in-process, no further exec) hand CAP_NET_RAW/CAP_NET_ADMIN to the sensor only.
# The container needs both --cap-add, else the kernel refuses to exec /app/sensor.
RUN setcap cap_net_raw,cap_net_admin+eip /app/sensor \
 && apt-get purge -y --auto-remove libcap2-bin
ENV SENSOR_Database=/var/lib/sensor/sensor.duckdb \
    SENSOR_KEY_FILE=/var/lib/sensor/hmac.key
VOLUME /var/lib/sensor
USER 10001:10001
# No curl in the image: the sensor asks the running service itself (its socket, else /healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/app/sensor", "status", "--health"]
ENTRYPOINT ["/app/sensor", "run"]
