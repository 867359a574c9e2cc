# examples/multistage/graph (Build and Image) as a Dockerfile, step for
# step: the peer of the benchmark's build metric, built with
#   buildctl build --frontend dockerfile.v0 --local context=APP --local dockerfile=DIR --opt filename=multistage.Dockerfile
# No "# syntax=" line: the daemon's built-in Dockerfile frontend is used
# (no frontend image is pulled). The cache mounts have the names of the
# SDK's CacheVolume("go-mod") and CacheVolume("go-build"); the frontend
# stores them as "/go-mod" and "/go-build", so each side of the benchmark
# keeps its own cache volumes. Proxy settings arrive as the predefined
# HTTP_PROXY/HTTPS_PROXY/NO_PROXY build args.
FROM golang:1.26 AS build
ENV CGO_ENABLED=0
WORKDIR /src
COPY go.mod /src/go.mod
RUN --mount=type=cache,id=go-mod,target=/go/pkg/mod \
    --mount=type=cache,id=go-build,target=/root/.cache/go-build \
    go mod download
COPY . /src
RUN --mount=type=cache,id=go-mod,target=/go/pkg/mod \
    --mount=type=cache,id=go-build,target=/root/.cache/go-build \
    go test ./...
RUN --mount=type=cache,id=go-mod,target=/go/pkg/mod \
    --mount=type=cache,id=go-build,target=/root/.cache/go-build \
    go build -trimpath "-ldflags=-s -w" -o /out/hello .

FROM debian:bookworm-slim
COPY --from=build --chmod=0755 /out/hello /usr/local/bin/hello
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/hello"]
EXPOSE 8080
LABEL org.opencontainers.image.title="hello" \
      org.opencontainers.image.version="dev" \
      org.opencontainers.image.source="https://github.com/ladingbuild/lading/tree/main/examples/multistage"
