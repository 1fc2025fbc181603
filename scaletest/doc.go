// Package scaletest holds the scale-out acceptance tests: three gateway
// processes ("switchboard serve --cluster-redis ...") sharing a real
// redis-server, behind Debian's haproxy balancing round robin without
// sticky sessions, all on loopback. The package has no code of its own;
// run it with "make scale" (which installs haproxy and redis-server when
// missing), or with SWITCHBOARD_SCALE=1; otherwise "go test ./..." skips
// it. Without haproxy or redis-server the tests skip, unless
// SWITCHBOARD_SCALE_REQUIRED is set.
package scaletest
