# gosupervisor container image: supervisord as PID 1 on distroless/static.
#
#   docker build -t gosupervisor --build-arg VERSION=1.2.3 --build-arg COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -v $PWD/conf.d:/etc/supervisor/conf.d:ro -p 9001:9001 gosupervisor
#
# The config is packaging/container/supervisord.conf: programs from
# /etc/supervisor/conf.d/*.conf, logs on the container's stdout, GET /healthz
# and /metrics on port 9001, exit_on_fatal on. `docker stop` (SIGTERM) stops
# the programs in priority order within their stopwaitsecs and exits 0; a
# FATAL program makes the container exit 1. packaging/'s
# TestContainerEntrypoint runs this ENTRYPOINT with this config as PID 1 of
# a new pid and mount namespace.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
ARG COMMIT=unknown
RUN VERSION=$VERSION COMMIT=$COMMIT scripts/build-binaries /out/usr/bin linux "$(go env GOARCH)" \
 && mkdir -p /out/etc/supervisor/conf.d /out/var/log/supervisor /out/run \
 && cp packaging/container/supervisord.conf /out/etc/supervisor/supervisord.conf \
 && cp packaging/container/conf.d/README /out/etc/supervisor/conf.d/README

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/ /
EXPOSE 9001
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]
