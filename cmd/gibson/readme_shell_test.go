package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	runWithNote   = regexp.MustCompile(`^run with (.+?) added\b`)
	shellComment  = regexp.MustCompile(`\s+#\s`)
	quotedWords   = regexp.MustCompile(`"([^"]+)"`)
	benchProgress = regexp.MustCompile(`^gibson bench: .* requests after \d+ s$`)
)

// readmeServer is a gibson serve started by a README line.
type readmeServer struct {
	line   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // stdout and stderr, in order
	stderr bytes.Buffer
	done   chan struct{}
}

func (s *readmeServer) output() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String(), s.stderr.String()
}

// startReadmeServer starts a "gibson serve" line in the background and waits for its
// start line.
func startReadmeServer(t *testing.T, line string, dir string, env []string) *readmeServer {
	t.Helper()
	s := &readmeServer{line: line, done: make(chan struct{})}
	s.cmd = exec.Command("bash", "-c", "exec "+strings.TrimSuffix(strings.TrimSpace(line), "&"))
	s.cmd.Dir, s.cmd.Env = dir, env
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if strings.Contains(sc.Text(), "gibson serve started") {
				once.Do(func() { close(started) })
			}
		}
	}()
	go func() {
		defer wg.Done()
		b, _ := io.ReadAll(stderr)
		s.mu.Lock()
		s.stderr.Write(b)
		s.out.Write(b)
		s.mu.Unlock()
	}()
	go func() { wg.Wait(); _ = s.cmd.Wait(); close(s.done) }()
	select {
	case <-started:
	case <-s.done:
		out, _ := s.output()
		t.Fatalf("README: %s\nexited before it started:\n%s", line, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("README: %s\ndid not start within 30 s", line)
	}
	return s
}

// Every shell block of README.md runs, in order, from the repository root, unless the
// line before it says <!-- not run: why -->: /tmp/ is replaced by a fresh directory, the
// README's own go install ./cmd/gibson puts gibson on PATH, a "gibson serve" line runs in
// the background (and must start and stop without a warning), and every other line must
// exit 0 with nothing on stderr and print the quoted words of its comment.
// <!-- run with ARGS added … --> adds ARGS to each gibson bench of the block.
func TestREADMEShell(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs gibson")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "GIBSON_ADDR" && k != "GOBIN" && k != "PATH" {
			env = append(env, kv)
		}
	}
	env = append(env, "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	var servers []*readmeServer
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
				t.Errorf("README: %s\ndid not stop within 10 s of SIGTERM", s.line)
			}
			out, stderr := s.output()
			if strings.Contains(out, "level=WARN") || stderr != "" || !strings.Contains(out, "msg=stopped") {
				t.Errorf("README: %s\nwarned, wrote to stderr or did not stop cleanly:\n%s", s.line, out)
			}
			// Several servers run at once: none may write a pidfile it was not given.
			if !strings.Contains(s.line, "pidfile") && !strings.Contains(out, ` pidfile="" `) {
				t.Errorf("README: %s\nwrote a pidfile nobody named:\n%s", s.line, out)
			}
		}
	})
	installed, ran := false, 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "sh" && b.lang != "shell" && b.lang != "bash" && b.lang != "console" {
			continue
		}
		if strings.HasPrefix(b.note, "not run:") {
			continue
		}
		if b.note != "" && !runWithNote.MatchString(b.note) {
			t.Errorf("README.md:%d: the note %q before the block is neither \"not run: why\" nor \"run with ARGS added\"", b.line-1, b.note)
		}
		var extra string
		if m := runWithNote.FindStringSubmatch(b.note); m != nil {
			extra = m[1]
		}
		lines := strings.Split(strings.ReplaceAll(b.code, "\\\n", " "), "\n")
		for n, line := range lines {
			where := b.line + n
			if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			cmdText, comment := line, ""
			if loc := shellComment.FindStringIndex(line); loc != nil {
				cmdText, comment = line[:loc[0]], line[loc[1]:]
			}
			cmdText = strings.ReplaceAll(strings.TrimSpace(cmdText), "/tmp/", dir+"/")
			if strings.Contains(cmdText, "gibson") && !strings.HasPrefix(cmdText, "go ") && !installed {
				t.Fatalf("README.md:%d runs gibson before the README installs it with go install ./cmd/gibson", where)
			}
			ran++
			if strings.HasPrefix(cmdText, "gibson serve") {
				servers = append(servers, startReadmeServer(t, cmdText, root, env))
				continue
			}
			if extra != "" && strings.HasPrefix(cmdText, "gibson bench") {
				cmdText += " " + extra
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			cmd := exec.CommandContext(ctx, "bash", "-c", cmdText)
			cmd.Dir, cmd.Env = root, env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			cancel()
			errText := stderr.String()
			if strings.HasPrefix(cmdText, "gibson bench") {
				var kept []string
				for _, l := range strings.Split(strings.TrimSuffix(errText, "\n"), "\n") {
					if l != "" && !benchProgress.MatchString(l) {
						kept = append(kept, l)
					}
				}
				errText = strings.Join(kept, "\n")
			}
			if err != nil || errText != "" {
				t.Errorf("README.md:%d: %s\n%v, stderr:\n%s\nstdout:\n%s", where, cmdText, err, stderr.String(), stdout.String())
				continue
			}
			for _, m := range quotedWords.FindAllStringSubmatch(comment, -1) {
				if !strings.Contains(stdout.String(), m[1]) {
					t.Errorf("README.md:%d: %s\nprinted %q, without %q (its comment says it does)", where, cmdText, stdout.String(), m[1])
				}
			}
			if cmdText == "go install ./cmd/gibson" {
				if _, err := os.Stat(filepath.Join(bin, "gibson")); err != nil {
					t.Fatalf("README.md:%d: go install ./cmd/gibson installed no gibson: %v", where, err)
				}
				installed = true
			}
		}
	}
	if !installed || ran < 10 {
		t.Errorf("README.md: installed gibson %v, ran %d lines; want go install ./cmd/gibson and the examples", installed, ran)
	}
}
