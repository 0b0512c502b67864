# syntax=docker/dockerfile:1
# Build: compile the single binary with Bun (installed from npm as a dev dependency).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY src ./src
RUN npm run build

# Run: the binary alone on a small Debian base, as a non-root user, data on a volume.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin ringcast \
 && mkdir -p /data && chown ringcast:ringcast /data
COPY --from=build /src/dist/ringcast /usr/local/bin/ringcast
USER ringcast
WORKDIR /data
VOLUME ["/data"]
ENV RINGCAST_HOST=0.0.0.0 \
    RINGCAST_PORT=8080 \
    RINGCAST_DATA=/data/ringcast.db
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["ringcast", "health", "--url", "http://127.0.0.1:8080"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["ringcast"]
CMD ["serve"]
