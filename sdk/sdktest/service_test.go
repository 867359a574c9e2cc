package sdktest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// A plan shows which services each exec step is bound to: their alias,
// command, ports, health check and AsService line, offline.
func TestPlanShowsServiceBindings(t *testing.T) {
	t.Parallel()
	redis := sdk.From("redis:7").WithEntrypoint("redis-server", "--port", "6379").
		AsService(sdk.ServicePorts(6379))
	pg := sdk.From("postgres:16").WithDefaultArgs("postgres").
		AsService(sdk.ServicePorts(5432, 5433), sdk.HealthCheck("pg_isready"))
	app := sdk.From("golang:1.26").
		WithExec([]string{"go", "build", "./..."}).
		WithServiceBinding("db", pg).
		WithServiceBinding("cache", redis).
		WithExec([]string{"go", "test", "./..."})
	p := sdktest.PlanOf(app)
	require.NoError(t, p.Err())

	build := p.Exec(t, "go", "build")
	assert.Empty(t, build.Services, "bindings apply to later steps only")
	test := p.Exec(t, "go", "test")
	require.Len(t, test.Services, 2)
	assert.Equal(t, []string{"cache", "db"}, []string{test.Services[0].Alias, test.Services[1].Alias}, "sorted by alias")
	db, ok := test.Binding("db")
	require.True(t, ok)
	assert.Equal(t, []string{"postgres"}, db.Command)
	assert.Equal(t, []int{5432, 5433}, db.Ports)
	assert.Equal(t, []string{"pg_isready"}, db.Check)
	assert.True(t, strings.HasPrefix(db.Location, "sdktest/service_test.go:"), db.Location)
	cache, ok := test.Binding("cache")
	require.True(t, ok)
	assert.Equal(t, []string{"redis-server", "--port", "6379"}, cache.Command)
	_, ok = test.Binding("nope")
	assert.False(t, ok)

	assert.Contains(t, test.String(), " service=cache:6379 service=db:5432,5433+check @ ")
	assert.NotContains(t, build.String(), "service=")
}

// ExampleStep_Binding asserts, offline, that the test step reaches its
// database.
func ExampleStep_Binding() {
	db := sdk.From("postgres:16").WithDefaultArgs("postgres").AsService(sdk.ServicePorts(5432))
	app := sdk.From("golang:1.26").WithServiceBinding("db", db).WithExec([]string{"go", "test", "./..."})
	step, _ := sdktest.PlanOf(app).FindExec("go", "test")
	b, ok := step.Binding("db")
	fmt.Println(ok, b.Command, b.Ports)
	// Output: true [postgres] [5432]
}
