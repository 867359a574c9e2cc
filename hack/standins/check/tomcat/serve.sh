#!/usr/bin/env bash
# Start Tomcat the way the image's CMD does and wait until it serves ROOT.war.
set -euo pipefail
echo "CHECK pwd=$(pwd) CATALINA_HOME=$CATALINA_HOME java=$(command -v java)"
catalina.sh run >/tmp/catalina.out 2>&1 &
body=""
for i in $(seq 1 600); do
	if exec 3<>/dev/tcp/127.0.0.1/8080; then
		printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
		body="$(cat <&3 || true)"
		exec 3>&-
		case "$body" in *lading-tomcat-check-ok*) break ;; esac
	fi 2>/dev/null
	sleep 0.1
done
case "$body" in
*lading-tomcat-check-ok*) echo "CHECK tomcat served ROOT.war after ~$((i / 10))s: $(echo "$body" | head -n1)" ;;
*) cat /tmp/catalina.out; echo "tomcat did not serve ROOT.war" >&2; exit 1 ;;
esac
catalina.sh stop 10 >/dev/null 2>&1 || true
