#!/usr/bin/env bash
# Start Tomcat the way the image's CMD does and wait until it serves ROOT.war.
set -euo pipefail
echo "CHECK pwd=$(pwd) CATALINA_HOME=$CATALINA_HOME java=$(command -v java)"
catalina.sh run >/tmp/catalina.out 2>&1 &

get() { # get PATH — HTTP/1.0 GET on 127.0.0.1:8080 (bash /dev/tcp: no curl in the image)
	exec 3<>/dev/tcp/127.0.0.1/8080 || return 1
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
	cat <&3 || true
	exec 3>&-
}

body=""
for i in $(seq 1 600); do
	body="$(get / 2>/dev/null || true)"
	case "$body" in *lading-tomcat-check-ok*) break ;; esac
	sleep 0.1
done
case "$body" in
*lading-tomcat-check-ok*) echo "CHECK tomcat served ROOT.war after ~$((i / 10))s: $(echo "$body" | head -n1)" ;;
*) cat /tmp/catalina.out; echo "tomcat did not serve ROOT.war" >&2; exit 1 ;;
esac
hello="$(get /hello)"
case "$hello" in
*lading-servlet-ok*) echo "CHECK servlet /hello: $(echo "$hello" | tail -n1)" ;;
*) cat /tmp/catalina.out; echo "servlet /hello did not answer: $hello" >&2; exit 1 ;;
esac
catalina.sh stop 10 >/dev/null 2>&1 || true
