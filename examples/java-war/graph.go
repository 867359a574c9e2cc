package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ladingbuild/lading/sdk"
)

// Build packages the web app with Maven. ~/.m2 is a cache volume, so
// dependencies are downloaded once, not on every source change. The proxy
// reaches Maven twice: as HTTP(S)_PROXY for the step, and as Maven's own
// <proxies> settings, mounted like a secret so it never enters the image or
// the cache key (a proxy URL may carry a password).
func Build(src *sdk.Directory, proxy sdk.Proxy) *sdk.Container {
	c := sdk.From("maven:3.9-eclipse-temurin-17").
		WithMountedCache("/root/.m2", sdk.CacheVolume("maven-m2"), sdk.Locked).
		WithProxy(proxy).
		WithWorkdir("/src")
	if settings := MavenSettings(proxy); settings != "" {
		c = c.WithMountedSecret("/root/.m2/settings.xml", sdk.SecretFromValue("maven-settings", settings))
	}
	return c.
		WithFile("/src/pom.xml", src.File("pom.xml")).
		WithDirectory("/src/src", src.Directory("src")).
		WithExec([]string{"mvn", "-B", "package"})
}

// Image deploys the WAR as Tomcat's ROOT web app.
func Image(build *sdk.Container, version string) *sdk.Container {
	return sdk.From("tomcat:10.1-jre17").
		WithoutPath("/usr/local/tomcat/webapps/ROOT").
		WithFile("/usr/local/tomcat/webapps/ROOT.war", build.File("/src/target/app.war")).
		WithEntrypoint("/usr/local/tomcat/bin/catalina.sh").
		WithDefaultArgs("run").
		WithExposedPort(8080).
		WithLabel("org.opencontainers.image.title", "hello-war").
		WithLabel("org.opencontainers.image.version", version)
}

// Smoke starts Tomcat in a step on top of the image, requests the app's
// page and prints it, in a network of its own (no port collisions).
func Smoke(image *sdk.Container) *sdk.Container {
	return image.
		WithUser("root").
		WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null"}).
		WithExec([]string{"sh", "-c", `catalina.sh start >/dev/null 2>&1
curl -fsS --retry 60 --retry-connrefused --retry-all-errors --retry-delay 1 'http://127.0.0.1:8080/?name=smoke'
status=$?; catalina.sh stop >/dev/null 2>&1; exit $status`}, sdk.NoNetwork())
}

// MavenSettings renders a settings.xml whose <proxies> match p, or "" when
// p sets no HTTP(S) proxy.
func MavenSettings(p sdk.Proxy) string {
	var proxies []string
	for _, px := range []struct{ id, url string }{{"http", p.HTTP}, {"https", p.HTTPS}} {
		if px.url == "" {
			continue
		}
		u, err := url.Parse(px.url)
		if err != nil || u.Hostname() == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = "80"
		}
		auth := ""
		if u.User != nil {
			pass, _ := u.User.Password()
			auth = fmt.Sprintf("\n      <username>%s</username>\n      <password>%s</password>", xmlEscape(u.User.Username()), xmlEscape(pass))
		}
		nonProxy := strings.ReplaceAll(p.NoProxy, ",", "|")
		proxies = append(proxies, fmt.Sprintf(`    <proxy>
      <id>%s</id>
      <active>true</active>
      <protocol>%s</protocol>
      <host>%s</host>
      <port>%s</port>%s
      <nonProxyHosts>%s</nonProxyHosts>
    </proxy>`, px.id, px.id, xmlEscape(u.Hostname()), port, auth, xmlEscape(nonProxy)))
	}
	if len(proxies) == 0 {
		return ""
	}
	return "<settings>\n  <proxies>\n" + strings.Join(proxies, "\n") + "\n  </proxies>\n</settings>\n"
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
