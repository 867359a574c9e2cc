package sdk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

func redis() *sdk.Container {
	return sdk.From("debian:bookworm").WithEntrypoint("redis-server")
}

func TestServiceBadInput(t *testing.T) {
	t.Parallel()
	base := sdk.From("debian:bookworm")
	cases := []struct {
		name    string
		v       sdk.Value
		op, arg string
	}{
		{"alias with a dot", base.WithServiceBinding("db.local", redis().AsService()), "WithServiceBinding", "alias"},
		{"empty alias", base.WithServiceBinding("", redis().AsService()), "WithServiceBinding", "alias"},
		{"upper-case alias", base.WithServiceBinding("DB", redis().AsService()), "WithServiceBinding", "alias"},
		{"nil service", base.WithServiceBinding("db", nil), "WithServiceBinding", "svc"},
		{"zero service", base.WithServiceBinding("db", &sdk.Service{}), "WithServiceBinding", "svc"},
		{"port 0", base.WithServiceBinding("db", redis().AsService(sdk.ServicePorts(0))), "AsService", "ServicePorts"},
		{"port too big", base.WithServiceBinding("db", redis().AsService(sdk.ServicePorts(70000))), "AsService", "ServicePorts"},
		{"bad env name", base.WithServiceBinding("db", redis().AsService(sdk.ServiceEnv("A=B", "x"))), "AsService", "name"},
		{"negative timeout", base.WithServiceBinding("db", redis().AsService(sdk.HealthTimeout(-time.Second))), "AsService", "HealthTimeout"},
		{"nil container", base.WithServiceBinding("db", (*sdk.Container)(nil).AsService()), "AsService", "receiver"},
		{"nothing to run", base.WithServiceBinding("db", base.AsService()).WithExec([]string{"true"}), "AsService", "container"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := compile(t, tc.v)
			var verr *sdk.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tc.op, verr.Op)
			assert.Equal(t, tc.arg, verr.Arg)
			assert.Equal(t, "sdk/service_test.go", verr.Location.File)
			assert.NotEmpty(t, verr.Fix)
		})
	}
}

// boundProgram compiles a step bound to svc as db.
func boundProgram(t *testing.T, svc *sdk.Service, runID string) *llb.Program {
	t.Helper()
	c := sdk.From("debian:bookworm").WithServiceBinding("db", svc).WithExec([]string{"redis-cli", "-h", "db", "ping"})
	p, err := llb.CompileValue(t.Context(), c, llb.Options{RunID: runID})
	require.NoError(t, err)
	return p
}

func TestServiceFacts(t *testing.T) {
	t.Parallel()
	svc := redis().WithDefaultArgs("--port", "6379").AsService(sdk.ServicePorts(6379), sdk.ServiceEnv("MODE", "test"), sdk.HealthCheck("redis-cli", "ping"))
	p := boundProgram(t, svc, "run-1")
	require.Len(t, p.Services, 1)
	s := p.Services[0]
	assert.Equal(t, "db", s.Alias)
	assert.True(t, strings.HasPrefix(s.Addr, "127."), s.Addr)
	assert.NotContains(t, s.Addr, "127.0.")
	assert.Equal(t, []string{"redis-server", "--port", "6379"}, s.Args)
	assert.Contains(t, s.Env, "MODE=test")
	assert.Contains(t, s.Env, "LADING_SERVICE_HOST="+s.Addr)
	assert.Equal(t, []int{6379}, s.Ports)
	assert.Equal(t, []string{"redis-cli", "ping"}, s.Check)
	assert.Contains(t, s.Location, "sdk/service_test.go:")
	require.Len(t, s.Steps, 1)
	assert.Equal(t, p.FinalExec, s.Steps[0], "the bound step is recorded")
	assert.Contains(t, p.Bases, s.Program.Bases[0], "the service's base image is in the program's facts")

	again := boundProgram(t, svc, "run-1")
	assert.Equal(t, s.Addr, again.Services[0].Addr, "one address per run")
	other := boundProgram(t, svc, "run-2")
	assert.NotEqual(t, s.Addr, other.Services[0].Addr, "two runs never share an address")
}

func TestServiceBindingIdentity(t *testing.T) {
	t.Parallel()
	stepID := func(p *llb.Program) string { return p.Steps[p.FinalExec].ID }
	a := boundProgram(t, redis().AsService(sdk.ServicePorts(6379)), "r")
	same := boundProgram(t, redis().AsService(sdk.ServicePorts(6379)), "r")
	otherPort := boundProgram(t, redis().AsService(sdk.ServicePorts(6380)), "r")
	otherImage := boundProgram(t, redis().WithEnv("X", "1").AsService(sdk.ServicePorts(6379)), "r")
	unbound, err := llb.CompileValue(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"redis-cli", "-h", "db", "ping"}), llb.Options{})
	require.NoError(t, err)

	assert.Equal(t, stepID(a), stepID(same))
	assert.NotEqual(t, stepID(a), stepID(otherPort))
	assert.NotEqual(t, stepID(a), stepID(otherImage))
	assert.NotEqual(t, stepID(a), stepID(unbound))
	assert.Empty(t, unbound.Services)
}
