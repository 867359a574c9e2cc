package graph

import "github.com/ladingbuild/lading/sdk"

// Redis is a Redis server run as a service: it listens on the address the
// engine gives it (LADING_SERVICE_HOST), so pipelines running at the same
// time never share a server, and is healthy once it answers PING.
func Redis() *sdk.Service {
	return sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null"}).
		WithEntrypoint("sh", "-c", `exec redis-server --bind "$LADING_SERVICE_HOST" --port 6379 --save "" --appendonly no`).
		AsService(sdk.ServicePorts(6379), sdk.HealthCheck("redis-cli", "-h", "db", "ping"))
}

// Test runs the service's tests, its integration test included, with the
// Redis service bound as "db". The Go build cache persists between runs.
func Test(src *sdk.Directory) *sdk.Container {
	return sdk.From("golang:1.26").
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithWorkdir("/src").
		WithDirectory("/src", src).
		WithServiceBinding("db", Redis()).
		WithEnv("REDIS_ADDR", "db:6379").
		WithExec([]string{"go", "test", "-count=1", "-v", "./..."})
}
