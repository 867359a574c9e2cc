package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListening(t *testing.T) {
	t.Parallel()
	table := strings.Join([]string{
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
		"   0: 0500A87F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",     // 127.168.0.5:6379 listening
		"   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1",     // 127.0.0.1:8080: another address
		"   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1",     // 0.0.0.0:80
		"   3: 0500A87F:2328 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4 1",     // :9000 established, not listening
		"   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 0 0 0 0 0 5 1", // [::]:5432
		"   1: 0000000000000000FFFF00000500A87F:0CEA 00000000000000000000000000000000:0000 0A 0 0 0 0 0 6 1", // [::ffff:127.168.0.5]:3306
	}, "\n")
	open := listening(table, "127.168.0.5")
	assert.Equal(t, map[int]bool{6379: true, 80: true, 5432: true, 3306: true}, open)
	assert.Equal(t, "0100007F", hexIPv4("127.0.0.1"))
	assert.Equal(t, "-", hexIPv4("not an address"))
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	b := &tailBuffer{max: 16}
	_, _ = b.Write([]byte("first line\nsecond\n\nthird\n"))
	assert.Equal(t, []string{"second", "third"}, b.lines(5), "the oldest bytes are dropped")
	assert.Equal(t, []string{"third"}, b.lines(1))
}
