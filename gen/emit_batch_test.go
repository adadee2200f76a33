package gen

import (
	"strings"
	"testing"
)

// TestBatchRefusalFollowsClosesFlag: the batch method refuses exactly the commands flagged
// closes, whatever they are named: moving the flag from Bye to Hold moves the refusal.
func TestBatchRefusalFollowsClosesFlag(t *testing.T) {
	s, err := LoadFile(goldenDir + "/valid/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Commands {
		switch c.Name {
		case "Bye":
			c.Closes = false
		case "Hold":
			c.Closes = true
		}
	}
	files, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	src := string(files["batch.go"])
	body := func(method string) string {
		start := strings.Index(src, "func (c *BatchCommands) "+method+"(")
		if start < 0 {
			t.Fatalf("batch.go has no method %s", method)
		}
		end := strings.Index(src[start:], "\n}\n")
		return src[start : start+end]
	}
	if b := body("Hold"); !strings.Contains(b, "HOLD would close the connection under the rest of the batch; call Hold on its own") || strings.Contains(b, "Queue(") {
		t.Errorf("Hold, flagged closes, is not refused:\n%s", b)
	}
	if b := body("Bye"); strings.Contains(b, "would close") || !strings.Contains(b, "c.b.Queue(req, res)") {
		t.Errorf("Bye, no longer flagged closes, is not queued:\n%s", b)
	}
}
