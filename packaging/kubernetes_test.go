package packaging

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestKubernetesExample loads the program files of examples/kubernetes'
// ConfigMap with the image's supervisord.conf, and checks the pod's probe
// and scrape annotations point at what that config serves.
func TestKubernetesExample(t *testing.T) {
	pod, err := os.ReadFile(filepath.Join(repo(t), "examples/kubernetes/pod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := configMapFiles(string(pod))
	if len(files) != 2 {
		t.Fatalf("ConfigMap files %v, want web.conf and worker.conf", files)
	}
	dir := t.TempDir()
	confd := filepath.Join(dir, "conf.d")
	os.Mkdir(confd, 0o755)
	for name, text := range files {
		os.WriteFile(filepath.Join(confd, name), []byte(text), 0o644)
	}
	conf, err := os.ReadFile(filepath.Join(repo(t), "packaging/container/supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(conf), "\nfiles = /etc/supervisor/conf.d/*.conf", "\nfiles = "+confd+"/*.conf", 1)
	text = strings.ReplaceAll(text, "/run/", dir+"/")
	text = strings.Replace(text, "/var/log/supervisor", dir, 1)
	path := filepath.Join(dir, "supervisord.conf")
	os.WriteFile(path, []byte(text), 0o644)
	cfg, err := config.Load(path, config.LoadOptions{Environ: os.Environ(), Cwd: dir})
	if err != nil {
		t.Fatalf("the pod's programs do not load with the image's config: %v", err)
	}
	priorities := map[string]int{}
	for _, g := range cfg.Groups {
		priorities[g.Name] = g.Priority
		for _, p := range g.Processes {
			if p.Name == "web" && (p.Probes.Ready == nil || p.Probes.Healthcheck == nil) {
				t.Errorf("web lost its ready/healthcheck keys")
			}
		}
	}
	if priorities["web"] != 200 || priorities["worker"] != 100 {
		t.Errorf("groups %v, want web (200) and worker (100)", priorities)
	}
	// The probe and the annotations name what the image serves.
	port := regexp.MustCompile(`(?m)^port=[0-9.]*:(\d+)$`).FindStringSubmatch(string(conf))
	if port == nil || !strings.Contains(string(conf), "\nhealthz=true\n") || !strings.Contains(string(conf), "\nmetrics=true\n") {
		t.Fatal("the image's config does not serve /healthz and /metrics on an inet port")
	}
	for _, want := range []string{
		"containerPort: " + port[1], "path: /healthz", `prometheus.io/port: "` + port[1] + `"`, "prometheus.io/path: /metrics",
	} {
		if !strings.Contains(string(pod), want) {
			t.Errorf("pod.yaml lacks %q", want)
		}
	}
}

// configMapFiles returns the "NAME.conf: |" blocks of a ConfigMap's data,
// unindented.
func configMapFiles(yaml string) map[string]string {
	files := map[string]string{}
	var name string
	var body []string
	flush := func() {
		if name != "" {
			files[name] = strings.Join(body, "\n") + "\n"
		}
		name, body = "", nil
	}
	header := regexp.MustCompile(`^  ([\w.-]+\.conf): \|$`)
	for _, line := range strings.Split(yaml, "\n") {
		switch m := header.FindStringSubmatch(line); {
		case m != nil:
			flush()
			name = m[1]
		case name != "" && strings.HasPrefix(line, "    "):
			body = append(body, line[4:])
		case name != "":
			flush()
		}
	}
	flush()
	return files
}
