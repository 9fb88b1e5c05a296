package main

// Checks of the deployment files under deploy/: every YAML file parses, the
// Helm chart renders (a small renderer below stands in for `helm template`,
// which cannot be installed here) into the objects README promises, the
// systemd unit passes `systemd-analyze verify` and `security`, compose wires
// Prometheus to both gateways, and every NOTIFYD_* name these files set is a
// real setting. Nothing here downloads anything.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// deployDir is deploy/ seen from this package's directory.
const deployDir = "../../deploy"

// chartDir is the Helm chart.
var chartDir = filepath.Join(deployDir, "helm", "notifyd")

// Files the observability half of issue 12 writes in deploy/prometheus and
// deploy/grafana, which compose mounts: checked when present.
var deployFilesOwnedElsewhere = []string{"prometheus/alerts.yml", "grafana/notifyd.json"}

func TestDeployYAMLParses(t *testing.T) {
	t.Parallel()
	n := 0
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "templates" && filepath.Base(filepath.Dir(filepath.Dir(path))) == "helm" {
			return fs.SkipDir // Go templates: rendered and parsed by TestHelmChart
		}
		if ext := filepath.Ext(path); d.IsDir() || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := parseYAMLDocs(b); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Fatalf("parsed %d YAML files under deploy/, want the chart, compose and its provisioning files", n)
	}
}

// TestDeploySettingsExist: the chart, the unit, its env file, compose and the
// Dockerfile set no NOTIFYD_* name that notifyd does not read.
func TestDeploySettingsExist(t *testing.T) {
	t.Parallel()
	known := knownSettings()
	name := regexp.MustCompile(`NOTIFYD_[A-Z0-9_]*[A-Z0-9]`)
	files := 0
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(deployDir, path)
		if d.IsDir() {
			if rel == "grafana" || rel == "prometheus" {
				return fs.SkipDir // dashboards and alerts name metrics, not settings
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, m := range name.FindAllString(string(b), -1) {
			// NOTIFYD_VERSION is compose's own variable for the image tag, not a setting.
			if _, ok := known[m]; !ok && !(m == "NOTIFYD_VERSION" && rel == "compose.yaml") {
				t.Errorf("deploy/%s names %s, which is no notifyd setting", rel, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files under deploy/")
	}
}

// knownSettings maps every environment name notifyd reads to its default.
func knownSettings() map[string]string {
	m := map[string]string{}
	for _, s := range settings(&config{}) {
		m[s.env] = s.def
	}
	return m
}

// settingDuration is a duration setting from env, else its default.
func settingDuration(t testing.TB, env map[string]string, name string) time.Duration {
	t.Helper()
	v, ok := env[name]
	if !ok {
		v = knownSettings()[name]
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

func TestHelmChart(t *testing.T) {
	t.Parallel()
	t.Run("defaults alone are refused", func(t *testing.T) {
		t.Parallel()
		_, err := renderChart(chartDir)
		if err == nil || !strings.Contains(err.Error(), "auth.jwtSecret") {
			t.Fatalf("rendering with values.yaml alone: %v, want a failure naming auth.jwtSecret", err)
		}
	})
	overlays, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(overlays) == 0 {
		t.Fatalf("no ci/*-values.yaml in the chart (%v)", err)
	}
	for _, overlay := range overlays {
		t.Run(filepath.Base(overlay), func(t *testing.T) {
			t.Parallel()
			r, err := renderChart(chartDir, overlay)
			if err != nil {
				t.Fatal(err)
			}
			checkRenderedChart(t, r)
			compareWithHelm(t, overlay, r)
		})
	}
}

// compareWithHelm lints the chart with the real helm when it is installed
// (it is no Debian package, so CI has none) and checks that it renders the
// same objects as renderChart.
func compareWithHelm(t *testing.T, overlay string, r *renderedChart) {
	helm, err := exec.LookPath("helm")
	if err != nil {
		t.Log("helm not installed: rendered by renderChart only")
		return
	}
	if out, err := exec.Command(helm, "lint", "--strict", chartDir, "-f", overlay).CombinedOutput(); err != nil {
		t.Errorf("helm lint: %v\n%s", err, out)
	}
	out, err := exec.Command(helm, "template", "notifyd", chartDir, "-f", overlay).Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	docs, err := parseYAMLDocs(out)
	if err != nil {
		t.Fatalf("helm template renders invalid YAML: %v", err)
	}
	key := func(o yamlMap) string { return str(o["kind"]) + "/" + str(dig(o, "metadata", "name")) }
	mine := map[string]yamlMap{}
	for _, o := range r.objects {
		mine[key(o)] = o
	}
	if len(docs) != len(r.objects) {
		t.Errorf("helm template renders %d objects, renderChart %d", len(docs), len(r.objects))
	}
	for _, o := range docs {
		if !reflect.DeepEqual(o, mine[key(o)]) {
			t.Errorf("helm template and renderChart differ on %s:\nhelm: %v\nours: %v", key(o), o, mine[key(o)])
		}
	}
}

// checkRenderedChart checks the objects of one rendering against README's
// operations section.
func checkRenderedChart(t *testing.T, r *renderedChart) {
	values := r.values
	byKind := map[string][]yamlMap{}
	for _, o := range r.objects {
		kind, _ := o["kind"].(string)
		byKind[kind] = append(byKind[kind], o)
	}
	one := func(kind string) yamlMap {
		t.Helper()
		if len(byKind[kind]) == 0 {
			t.Fatalf("no %s rendered", kind)
		}
		return byKind[kind][0]
	}
	configMaps := map[string]yamlMap{}
	for _, cm := range byKind["ConfigMap"] {
		configMaps[str(dig(cm, "metadata", "name"))] = cm
	}
	secrets := map[string]yamlMap{}
	for _, s := range byKind["Secret"] {
		secrets[str(dig(s, "metadata", "name"))] = s
	}
	known := knownSettings()

	dep := one("Deployment")
	if got, want := fmt.Sprint(dig(dep, "spec", "replicas")), fmt.Sprint(values["replicaCount"]); got != want {
		t.Errorf("replicas %s, want %s", got, want)
	}
	pod := asMap(dig(dep, "spec", "template", "spec"))
	podLabels := asMap(dig(dep, "spec", "template", "metadata", "labels"))
	selector := asMap(dig(dep, "spec", "selector", "matchLabels"))
	if !labelsMatch(selector, podLabels) {
		t.Errorf("deployment selector %v does not select its pods %v", selector, podLabels)
	}
	containers := asList(pod["containers"])
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := asMap(containers[0])

	ports := map[string]int{}
	for _, p := range asList(c["ports"]) {
		p := asMap(p)
		ports[str(p["name"])], _ = strconv.Atoi(fmt.Sprint(p["containerPort"]))
	}
	if ports["http"] == 0 {
		t.Errorf("no container port named http: %v", ports)
	}
	admin := asMap(values["ports"])["admin"]
	if fmt.Sprint(admin) != "0" && ports["metrics"] == 0 {
		t.Errorf("admin listener on, but no container port named metrics: %v", ports)
	}
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"} {
		get := asMap(dig(c, probe, "httpGet"))
		if get["path"] != path || get["port"] != "http" {
			t.Errorf("%s is %v, want GET %s on the public port (http)", probe, get, path)
		}
	}

	// The environment: a ConfigMap, secret references, nothing notifyd does not read.
	env := map[string]string{}
	for _, ef := range asList(c["envFrom"]) {
		name := str(dig(ef, "configMapRef", "name"))
		cm, ok := configMaps[name]
		if !ok {
			t.Fatalf("envFrom names ConfigMap %q, which the chart does not render", name)
		}
		for k, v := range asMap(cm["data"]) {
			env[k] = str(v)
		}
	}
	secretKeys := map[string]bool{}
	for _, e := range asList(c["env"]) {
		e := asMap(e)
		name := str(e["name"])
		if _, ok := known[name]; !ok {
			t.Errorf("env %s is no notifyd setting", name)
		}
		if ref := asMap(dig(e, "valueFrom", "secretKeyRef")); ref != nil {
			secretKeys[name] = true
			if sec, ok := secrets[str(ref["name"])]; ok && dig(sec, "stringData", str(ref["key"])) == nil && ref["optional"] != true {
				t.Errorf("env %s needs key %v, which Secret %v lacks", name, ref["key"], ref["name"])
			}
		} else {
			env[name] = str(e["value"])
		}
	}
	for name := range env {
		if _, ok := known[name]; !ok {
			t.Errorf("the chart sets %s, which is no notifyd setting", name)
		}
	}
	for _, name := range []string{"NOTIFYD_JWT_SECRET", "NOTIFYD_PUBLISH_TOKENS", "NOTIFYD_REDIS_URL", "NOTIFYD_REDIS_PASSWORD"} {
		if _, ok := env[name]; ok {
			t.Errorf("%s is in a ConfigMap; it belongs in the Secret", name)
		}
		if !secretKeys[name] {
			t.Errorf("%s is not read from the Secret", name)
		}
	}
	if _, p, err := net.SplitHostPort(env["NOTIFYD_ADDR"]); err != nil || p != strconv.Itoa(ports["http"]) {
		t.Errorf("NOTIFYD_ADDR %q does not listen on the http port %d", env["NOTIFYD_ADDR"], ports["http"])
	}
	if ports["metrics"] != 0 {
		if _, p, err := net.SplitHostPort(env["NOTIFYD_ADMIN_ADDR"]); err != nil || p != strconv.Itoa(ports["metrics"]) {
			t.Errorf("NOTIFYD_ADMIN_ADDR %q does not listen on the metrics port %d", env["NOTIFYD_ADMIN_ADDR"], ports["metrics"])
		}
	}
	existing := str(dig(values, "auth", "existingSecret"))
	if existing != "" && len(byKind["Secret"]) != 0 {
		t.Errorf("auth.existingSecret is set, yet the chart renders a Secret")
	}
	if existing == "" && env["NOTIFYD_REDIS_ADDRS"] == "" && dig(one("Secret"), "stringData", "NOTIFYD_REDIS_URL") == nil {
		t.Errorf("neither NOTIFYD_REDIS_ADDRS nor NOTIFYD_REDIS_URL: the replicas would each run an embedded Redis")
	}

	// Files named by settings are mounted.
	mounts := map[string]string{}
	for _, m := range asList(c["volumeMounts"]) {
		m := asMap(m)
		mounts[str(m["name"])] = str(m["mountPath"])
	}
	volumes := map[string]yamlMap{}
	for _, v := range asList(pod["volumes"]) {
		v := asMap(v)
		volumes[str(v["name"])] = v
	}
	for _, name := range []string{"NOTIFYD_JWT_PUBLIC_KEY", "NOTIFYD_RULES"} {
		file := env[name]
		if file == "" {
			continue
		}
		found := false
		for vol, dir := range mounts {
			if filepath.Dir(file) != dir {
				continue
			}
			found = true
			v := volumes[vol]
			if cm := str(dig(v, "configMap", "name")); cm != "" {
				if _, ok := configMaps[cm]; !ok {
					t.Errorf("volume %s names ConfigMap %q, not rendered", vol, cm)
				}
				if dig(configMaps[cm], "data", filepath.Base(file)) == nil {
					t.Errorf("%s=%s: ConfigMap %s has no key %s", name, file, cm, filepath.Base(file))
				}
			}
			if sec, ok := secrets[str(dig(v, "secret", "secretName"))]; ok {
				for _, item := range asList(dig(v, "secret", "items")) {
					if dig(sec, "stringData", str(dig(item, "key"))) == nil {
						t.Errorf("volume %s needs key %v, which Secret %s lacks", vol, dig(item, "key"), dig(sec, "metadata", "name"))
					}
				}
			}
			if dig(v, "secret", "secretName") == nil && dig(v, "configMap", "name") == nil {
				t.Errorf("volume %s for %s is neither a Secret nor a ConfigMap", vol, name)
			}
		}
		if !found {
			t.Errorf("%s=%s, but nothing is mounted at %s", name, file, filepath.Dir(file))
		}
	}

	// Shutdown: Kubernetes waits longer than notifyd drains.
	grace, _ := strconv.Atoi(fmt.Sprint(pod["terminationGracePeriodSeconds"]))
	preStop, _ := strconv.Atoi(fmt.Sprint(dig(c, "lifecycle", "preStop", "sleep", "seconds")))
	if shutdown := settingDuration(t, env, "NOTIFYD_SHUTDOWN_TIMEOUT"); time.Duration(grace-preStop)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %d minus preStop sleep %d is not above NOTIFYD_SHUTDOWN_TIMEOUT %v", grace, preStop, shutdown)
	}

	// Non-root, read-only, no privileges.
	psc, csc := asMap(pod["securityContext"]), asMap(c["securityContext"])
	if psc["runAsNonRoot"] != true || csc["readOnlyRootFilesystem"] != true || csc["allowPrivilegeEscalation"] != false ||
		!slices.Contains(asList(dig(csc, "capabilities", "drop")), any("ALL")) {
		t.Errorf("security contexts %v / %v: want runAsNonRoot, readOnlyRootFilesystem, no privilege escalation, capabilities dropped", psc, csc)
	}
	if _, ok := c["resources"].(yamlMap); !ok {
		t.Error("no resources on the container")
	}

	// A plain Service: ClusterIP, no session affinity, no admin port.
	var public yamlMap
	for _, s := range byKind["Service"] {
		if dig(s, "metadata", "labels", "app.kubernetes.io/component") == nil {
			public = s
		}
	}
	if public == nil {
		t.Fatal("no public Service")
	}
	spec := asMap(public["spec"])
	if spec["type"] != "ClusterIP" || (spec["sessionAffinity"] != nil && spec["sessionAffinity"] != "None") {
		t.Errorf("service type %v, sessionAffinity %v: want a plain ClusterIP without affinity", spec["type"], spec["sessionAffinity"])
	}
	if !labelsMatch(asMap(spec["selector"]), podLabels) {
		t.Errorf("service selector %v does not select the pods", spec["selector"])
	}
	for _, p := range asList(spec["ports"]) {
		if tp := dig(p, "targetPort"); tp != "http" {
			t.Errorf("public service exposes targetPort %v; only http belongs there", tp)
		}
	}

	if dig(values, "podDisruptionBudget", "enabled") == false {
		if len(byKind["PodDisruptionBudget"]) != 0 {
			t.Error("podDisruptionBudget.enabled=false, yet a PodDisruptionBudget is rendered")
		}
	} else if pdb := one("PodDisruptionBudget"); fmt.Sprint(dig(pdb, "spec", "minAvailable")) != "1" || !labelsMatch(asMap(dig(pdb, "spec", "selector", "matchLabels")), podLabels) {
		t.Errorf("PodDisruptionBudget spec %v: want minAvailable 1 over the gateways", pdb["spec"])
	}

	sm := asMap(values["serviceMonitor"])
	if got := len(byKind["ServiceMonitor"]); (sm["enabled"] == true) != (got == 1) {
		t.Errorf("serviceMonitor.enabled=%v but %d ServiceMonitors rendered", sm["enabled"], got)
	}
	for _, m := range byKind["ServiceMonitor"] {
		ep := asMap(asList(dig(m, "spec", "endpoints"))[0])
		if ep["port"] != "metrics" || ep["path"] != "/metrics" {
			t.Errorf("ServiceMonitor endpoint %v: want port metrics, path /metrics", ep)
		}
		sel := asMap(dig(m, "spec", "selector", "matchLabels"))
		found := false
		for _, s := range byKind["Service"] {
			if labelsMatch(sel, asMap(dig(s, "metadata", "labels"))) {
				found = true
				if dig(s, "metadata", "name") == dig(public, "metadata", "name") || !labelsMatch(asMap(dig(s, "spec", "selector")), podLabels) {
					t.Errorf("ServiceMonitor selects Service %v, want the metrics Service of the gateways", dig(s, "metadata", "name"))
				}
				hasMetrics := false
				for _, p := range asList(dig(s, "spec", "ports")) {
					hasMetrics = hasMetrics || dig(p, "name") == "metrics" && dig(p, "targetPort") == "metrics"
				}
				if !hasMetrics {
					t.Errorf("metrics Service %v has no port named metrics", dig(s, "metadata", "name"))
				}
			}
		}
		if !found {
			t.Errorf("ServiceMonitor selector %v matches no Service", sel)
		}
	}
	if !strings.Contains(r.notes, str(dig(public, "metadata", "name"))) {
		t.Errorf("NOTES.txt does not name the Service:\n%s", r.notes)
	}
}

func labelsMatch(selector, labels yamlMap) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	unitPath := filepath.Join(deployDir, "systemd", "notifyd.service")
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	directives := map[string][]string{}
	for _, line := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(line, "#") {
			directives[k] = append(directives[k], v)
		}
	}
	for k, want := range map[string]string{
		"ExecStart": "/usr/local/bin/notifyd", "DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "LimitNOFILE": "65536",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "Restart": "on-failure", "KillSignal": "SIGTERM",
		"EnvironmentFile": "/etc/notifyd/notifyd.env",
	} {
		if !slices.Contains(directives[k], want) {
			t.Errorf("%s=%q, want %q", k, directives[k], want)
		}
	}
	if !slices.Contains(directives["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%q, want @system-service", directives["SystemCallFilter"])
	}
	stop, err := time.ParseDuration(strings.Join(directives["TimeoutStopSec"], ""))
	if err != nil {
		t.Fatalf("TimeoutStopSec=%q: %v", directives["TimeoutStopSec"], err)
	}
	env := readEnvFile(t, filepath.Join(deployDir, "systemd", "notifyd.env.example"))
	if shutdown := settingDuration(t, env, "NOTIFYD_SHUTDOWN_TIMEOUT"); stop <= shutdown {
		t.Errorf("TimeoutStopSec %v is not above NOTIFYD_SHUTDOWN_TIMEOUT %v", stop, shutdown)
	}
	known := knownSettings()
	for name := range env {
		if _, ok := known[name]; !ok {
			t.Errorf("notifyd.env.example sets %s, which is no notifyd setting", name)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit checked by the directives above only")
	}
	// verify insists that ExecStart exists: check a copy that runs this test
	// binary instead of /usr/local/bin/notifyd.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "notifyd.service")
	body := strings.Replace(string(unit), "ExecStart=/usr/local/bin/notifyd", "ExecStart="+self, 1)
	if err := os.WriteFile(copyPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Exposure 0.0 (locked down) to 10.0 (none); the threshold is in tenths.
	out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", copyPath).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out); m != nil {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}

// readEnvFile reads NAME=value lines, skipping comments.
func readEnvFile(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not NAME=value", path, line)
		}
		env[k] = v
	}
	return env
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := parseYAMLDocs(b)
	if err != nil || len(docs) != 1 {
		t.Fatalf("compose.yaml: %d documents, %v", len(docs), err)
	}
	services := asMap(docs[0]["services"])
	known := knownSettings()

	// Gateways: the services whose environment sets NOTIFYD_* names.
	var gateways []string
	admin := map[string]string{}
	for name, s := range services {
		env := asMap(dig(s, "environment"))
		if env == nil {
			continue
		}
		isGateway := false
		for k, v := range env {
			if _, ok := known[k]; ok {
				isGateway = true
			} else if strings.HasPrefix(k, "NOTIFYD_") {
				t.Errorf("service %s sets %s, which is no notifyd setting", name, k)
			}
			if k == "NOTIFYD_ADMIN_ADDR" {
				_, admin[name], _ = net.SplitHostPort(str(v))
			}
		}
		if !isGateway {
			continue
		}
		gateways = append(gateways, name)
		if admin[name] == "" {
			t.Errorf("gateway %s has no NOTIFYD_ADMIN_ADDR: Prometheus scrapes the admin listener", name)
		}
		if !strings.HasPrefix(str(dig(s, "environment", "NOTIFYD_REDIS_URL")), "redis://redis:") {
			t.Errorf("gateway %s does not use the compose Redis", name)
		}
		if !slices.Contains(asList(dig(s, "healthcheck", "test")), any("/notifyd")) {
			t.Errorf("gateway %s has no health check", name)
		}
		grace, err := time.ParseDuration(str(s.(yamlMap)["stop_grace_period"]))
		envStr := map[string]string{}
		for k, v := range env {
			envStr[k] = str(v)
		}
		if shutdown := settingDuration(t, envStr, "NOTIFYD_SHUTDOWN_TIMEOUT"); err != nil || grace <= shutdown {
			t.Errorf("gateway %s: stop_grace_period %v (%v) not above NOTIFYD_SHUTDOWN_TIMEOUT %v", name, grace, err, shutdown)
		}
	}
	slices.Sort(gateways)
	if len(gateways) != 2 {
		t.Fatalf("gateways %v, want two", gateways)
	}
	for _, want := range []string{"redis", "prometheus", "grafana"} {
		if services[want] == nil {
			t.Errorf("no %s service", want)
		}
	}

	// Prometheus scrapes exactly both gateways' admin listeners and loads the alerts.
	prom := readYAMLFile(t, filepath.Join(deployDir, "compose", "prometheus.yml"))
	var targets []string
	for _, sc := range asList(prom["scrape_configs"]) {
		for _, st := range asList(dig(sc, "static_configs")) {
			for _, target := range asList(dig(st, "targets")) {
				targets = append(targets, str(target))
			}
		}
	}
	var want []string
	for _, g := range gateways {
		want = append(want, net.JoinHostPort(g, admin[g]))
	}
	slices.Sort(targets)
	if !slices.Equal(targets, want) {
		t.Errorf("Prometheus targets %v, want the gateways' admin listeners %v", targets, want)
	}
	if !slices.Contains(asList(prom["rule_files"]), any("/etc/prometheus/alerts.yml")) {
		t.Errorf("Prometheus rule_files %v do not load /etc/prometheus/alerts.yml", prom["rule_files"])
	}

	// The proxy in front balances over both gateways without stickiness.
	nginxFile, err := os.ReadFile(filepath.Join(deployDir, "compose", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var nginx strings.Builder // without comments
	for _, line := range strings.Split(string(nginxFile), "\n") {
		line, _, _ = strings.Cut(line, "#")
		nginx.WriteString(line + "\n")
	}
	for _, g := range gateways {
		if !strings.Contains(nginx.String(), "server "+g+":") {
			t.Errorf("nginx.conf does not balance over %s", g)
		}
	}
	for _, sticky := range []string{"ip_hash", "hash ", "sticky"} {
		if strings.Contains(nginx.String(), sticky) {
			t.Errorf("nginx.conf uses %q: no sticky sessions", sticky)
		}
	}

	// Every bind-mounted file exists (the observability files once they land).
	mounted := map[string]bool{}
	for name, s := range services {
		for _, v := range asList(dig(s, "volumes")) {
			src, _, _ := strings.Cut(str(v), ":")
			if !strings.HasPrefix(src, "./") {
				continue // a named volume
			}
			rel := filepath.Clean(src)
			mounted[filepath.ToSlash(rel)] = true
			if _, err := os.Stat(filepath.Join(deployDir, rel)); err != nil {
				if slices.Contains(deployFilesOwnedElsewhere, filepath.ToSlash(rel)) {
					t.Logf("service %s mounts deploy/%s, not written yet", name, rel)
					continue
				}
				t.Errorf("service %s mounts deploy/%s: %v", name, rel, err)
			}
		}
	}
	for _, f := range append(deployFilesOwnedElsewhere, "compose/prometheus.yml", "compose/grafana/datasources", "compose/grafana/dashboards") {
		if !mounted[f] {
			t.Errorf("compose mounts no deploy/%s", f)
		}
	}
}

func readYAMLFile(t testing.TB, path string) yamlMap {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := parseYAMLDocs(b)
	if err != nil || len(docs) != 1 {
		t.Fatalf("%s: %d documents, %v", path, len(docs), err)
	}
	return docs[0]
}

// yamlMap is a decoded YAML mapping.
type yamlMap = map[string]any

// parseYAMLDocs decodes every document of b, skipping empty ones; duplicate
// keys are errors.
func parseYAMLDocs(b []byte) ([]yamlMap, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []yamlMap
	for {
		var doc yamlMap
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// dig walks nested mappings.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(yamlMap)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asMap(v any) yamlMap { m, _ := v.(yamlMap); return m }
func asList(v any) []any  { l, _ := v.([]any); return l }

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// renderedChart is the output of renderChart.
type renderedChart struct {
	values  yamlMap   // values.yaml with the overlays merged
	objects []yamlMap // every Kubernetes object of every template
	notes   string    // NOTES.txt
}

// renderChart renders the chart at dir with values.yaml and then each overlay
// merged over it, as `helm template` does, and parses what it renders. The
// functions are Go's text/template builtins plus the few of Helm's (sprig)
// that the chart uses, written to behave as Helm's do; a template that calls
// any other fails to parse here, so the chart stays within this set.
func renderChart(dir string, overlays ...string) (*renderedChart, error) {
	meta := yamlMap{}
	chartFile, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(chartFile, &meta); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	for _, k := range []string{"apiVersion", "name", "version"} {
		if meta[k] == nil {
			return nil, fmt.Errorf("Chart.yaml has no %s", k)
		}
	}
	values := yamlMap{}
	for _, f := range append([]string{filepath.Join(dir, "values.yaml")}, overlays...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var v yamlMap
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		mergeValues(values, v)
	}

	name := str(meta["name"])
	basePath := name + "/templates"
	root := template.New(name).Option("missingkey=zero")
	root.Funcs(helmFuncs(root))
	files, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := root.New(basePath + "/" + filepath.Base(f)).Parse(string(b)); err != nil {
			return nil, err
		}
	}

	r := &renderedChart{values: values}
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "_") {
			continue // partials: only defines
		}
		data := yamlMap{
			"Values":  values,
			"Chart":   yamlMap{"Name": name, "Version": str(meta["version"]), "AppVersion": str(meta["appVersion"])},
			"Release": yamlMap{"Name": "notifyd", "Namespace": "default", "Service": "Helm", "IsInstall": true},
			"Template": yamlMap{
				"BasePath": basePath,
				"Name":     basePath + "/" + base,
			},
		}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, basePath+"/"+base, data); err != nil {
			return nil, err
		}
		text := strings.ReplaceAll(out.String(), "<no value>", "") // as Helm does
		if base == "NOTES.txt" {
			r.notes = text
			continue
		}
		docs, err := parseYAMLDocs([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("%s renders invalid YAML: %w\n%s", base, err, text)
		}
		for _, d := range docs {
			if d["apiVersion"] == nil || d["kind"] == nil || dig(d, "metadata", "name") == nil {
				return nil, fmt.Errorf("%s renders an object without apiVersion, kind or metadata.name:\n%s", base, text)
			}
		}
		r.objects = append(r.objects, docs...)
	}
	return r, nil
}

// mergeValues merges src into dst: mappings recursively, anything else
// replaced, as Helm merges values files.
func mergeValues(dst, src yamlMap) {
	for k, v := range src {
		if sm, ok := v.(yamlMap); ok {
			if dm, ok := dst[k].(yamlMap); ok {
				mergeValues(dm, sm)
				continue
			}
			c := yamlMap{}
			mergeValues(c, sm)
			v = c
		}
		dst[k] = v
	}
}

// helmFuncs are the Helm template functions the chart may use.
func helmFuncs(root *template.Template) template.FuncMap {
	indent := func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	}
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := root.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"toYaml": func(v any) (string, error) {
			var b bytes.Buffer
			enc := yaml.NewEncoder(&b)
			enc.SetIndent(2)
			if err := enc.Encode(v); err != nil {
				return "", err
			}
			return strings.TrimSuffix(b.String(), "\n"), nil
		},
		"indent":  indent,
		"nindent": func(n int, s string) string { return "\n" + indent(n, s) },
		"quote": func(vs ...any) string {
			var out []string
			for _, v := range vs {
				if v != nil {
					out = append(out, strconv.Quote(fmt.Sprint(v)))
				}
			}
			return strings.Join(out, " ")
		},
		"default": func(def any, given ...any) any {
			if len(given) == 0 || isEmpty(given[0]) {
				return def
			}
			return given[0]
		},
		"fail": func(msg string) (string, error) { return "", errors.New(msg) },
		"trunc": func(n int, s string) string {
			if n >= 0 && len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"contains":   func(substr, s string) bool { return strings.Contains(s, substr) },
		"join": func(sep string, v any) string {
			var parts []string
			for _, p := range asList(v) {
				parts = append(parts, fmt.Sprint(p))
			}
			return strings.Join(parts, sep)
		},
		"list": func(v ...any) []any { return v },
		"sha256sum": func(s string) string {
			sum := sha256.Sum256([]byte(s))
			return hex.EncodeToString(sum[:])
		},
	}
}

// isEmpty is sprig's notion of empty, which `default` and `if` share.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return rv.Len() == 0
	}
	return rv.IsZero()
}
