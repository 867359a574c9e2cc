package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

var proxy = sdk.Proxy{HTTP: "http://build:s3cret@proxy.corp:3128", HTTPS: "http://build:s3cret@proxy.corp:3128", NoProxy: "localhost,.corp"}

func TestMavenUsesCacheAndProxy(t *testing.T) {
	p := sdktest.PlanOf(Build(sdk.Host("app"), proxy))
	mvn := p.Exec(t, "mvn", "-B")
	mvn.RequireCacheMount(t, "/root/.m2")
	assert.True(t, mvn.Proxy, "HTTP(S)_PROXY must reach the step")
	mvn.RequireSecretMount(t, "/root/.m2/settings.xml", "maven-settings")
	assert.NotContains(t, p.String(), "s3cret", "the proxy password never appears in the graph")
}

func TestNoMavenSettingsWithoutProxy(t *testing.T) {
	p := sdktest.PlanOf(Build(sdk.Host("app"), sdk.Proxy{}))
	_, ok := p.Exec(t, "mvn", "-B").Mount("/root/.m2/settings.xml")
	assert.False(t, ok)
}

func TestTomcatImage(t *testing.T) {
	p := sdktest.PlanOf(Image(Build(sdk.Host("app"), proxy), "1.0"))
	img := p.Image()
	assert.Equal(t, []string{"/usr/local/tomcat/bin/catalina.sh"}, img.Entrypoint)
	assert.Equal(t, []string{"run"}, img.Cmd)
	assert.Equal(t, []string{"8080/tcp"}, img.Ports)
	p.RequireNoEnv(t, "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
	last := p.Steps()[len(p.Steps())-1]
	assert.Equal(t, "copy", last.Op)
	assert.Equal(t, []string{"/src/target/app.war", "/usr/local/tomcat/webapps/ROOT.war"}, last.Args)
}

func TestMavenSettings(t *testing.T) {
	s := MavenSettings(proxy)
	for _, want := range []string{"<host>proxy.corp</host>", "<port>3128</port>", "<username>build</username>", "<password>s3cret</password>", "<nonProxyHosts>localhost|.corp</nonProxyHosts>", "<protocol>https</protocol>"} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 2, strings.Count(s, "<proxy>"))
	assert.Empty(t, MavenSettings(sdk.Proxy{NoProxy: "x"}))
}

func TestGoldenPlan(t *testing.T) {
	sdktest.Golden(t, Image(Build(sdk.Host("app"), sdk.Proxy{}), "1.0"))
}

func TestSmokeCompiles(t *testing.T) {
	require.NoError(t, sdktest.PlanOf(Smoke(Image(Build(sdk.Host("app"), sdk.Proxy{}), "dev"))).Err())
}
