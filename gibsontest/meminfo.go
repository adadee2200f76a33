package gibsontest

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

// memoryAvailable returns the host's physical RAM in bytes from /proc/meminfo, or 8 GiB
// where that is not available; STATS reports it as memory_available.
var memoryAvailable = sync.OnceValue(func() int64 {
	const fallback = 8 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return fallback
})
