package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-mcp/switchboard/cluster/seal"
	"github.com/switchboard-mcp/switchboard/gateway/config"
)

const base = "kubernetes/base"

// strict decodes one YAML document into v: YAML to JSON, then JSON with
// unknown fields refused, so that a misspelled or misplaced field fails.
func strict(t *testing.T, file string, data []byte, v any) {
	t.Helper()
	if err := strictDecode(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func strictDecode(data []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// fakeT records a failure (for tests of the checks themselves).
type fakeT struct{ failed bool }

func strictInto(ft *fakeT, data []byte, v any) {
	if strictDecode(data, v) != nil {
		ft.failed = true
	}
}

// kustomization is the part of kustomization.yaml the test reads.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// objects are the decoded resources of the base.
type objects struct {
	deploy *appsv1.Deployment
	svc    *corev1.Service
	hpa    *autoscalingv2.HorizontalPodAutoscaler
	pdb    *policyv1.PodDisruptionBudget
	cm     *corev1.ConfigMap
	secret *corev1.Secret
	sa     *corev1.ServiceAccount
}

func load(t *testing.T) (*kustomization, *objects) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(base, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	strict(t, "kustomization.yaml", data, &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml: %s %s", k.APIVersion, k.Kind)
	}
	// Every manifest of the directory is a resource, and every resource
	// exists.
	files, _ := filepath.Glob(filepath.Join(base, "*.yaml"))
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !slices.Contains(k.Resources, b) {
			t.Errorf("%s is not listed in kustomization.yaml", b)
		}
	}
	o := &objects{}
	for _, r := range k.Resources {
		data, err := os.ReadFile(filepath.Join(base, r))
		if err != nil {
			t.Fatal(err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(data, &tm); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		var v any
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			o.deploy = &appsv1.Deployment{}
			v = o.deploy
		case "v1/Service":
			o.svc = &corev1.Service{}
			v = o.svc
		case "autoscaling/v2/HorizontalPodAutoscaler":
			o.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			v = o.hpa
		case "policy/v1/PodDisruptionBudget":
			o.pdb = &policyv1.PodDisruptionBudget{}
			v = o.pdb
		case "v1/ConfigMap":
			o.cm = &corev1.ConfigMap{}
			v = o.cm
		case "v1/Secret":
			o.secret = &corev1.Secret{}
			v = o.secret
		case "v1/ServiceAccount":
			o.sa = &corev1.ServiceAccount{}
			v = o.sa
		default:
			t.Fatalf("%s: unexpected kind %s %s", r, tm.APIVersion, tm.Kind)
		}
		strict(t, r, data, v)
	}
	for name, present := range map[string]bool{"Deployment": o.deploy != nil, "Service": o.svc != nil, "HorizontalPodAutoscaler": o.hpa != nil,
		"PodDisruptionBudget": o.pdb != nil, "ConfigMap": o.cm != nil, "Secret": o.secret != nil, "ServiceAccount": o.sa != nil} {
		if !present {
			t.Fatalf("the base has no %s", name)
		}
	}
	return &k, o
}

func matches(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// The rules of a scaled-out gateway, each a check on the decoded objects.
func TestManifests(t *testing.T) {
	k, o := load(t)
	pod := &o.deploy.Spec.Template
	var gw *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "gateway" {
			gw = &pod.Spec.Containers[i]
		}
	}
	if gw == nil {
		t.Fatal("no container named gateway")
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range gw.Env {
		env[e.Name] = e
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range gw.VolumeMounts {
		mounts[m.Name] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	psc, csc := pod.Spec.SecurityContext, gw.SecurityContext
	rules := []struct {
		name string
		ok   bool
	}{
		{"the Deployment's selector matches its pods", o.deploy.Spec.Selector != nil && matches(o.deploy.Spec.Selector.MatchLabels, pod.Labels)},
		{"at least 2 replicas", o.deploy.Spec.Replicas != nil && *o.deploy.Spec.Replicas >= 2},
		{"rolling updates never go below the replica count", o.deploy.Spec.Strategy.RollingUpdate != nil && o.deploy.Spec.Strategy.RollingUpdate.MaxUnavailable != nil && o.deploy.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() == 0},
		{"the Service selects the pods", matches(o.svc.Spec.Selector, pod.Labels)},
		{"the Service has no session affinity", o.svc.Spec.SessionAffinity == "" || o.svc.Spec.SessionAffinity == corev1.ServiceAffinityNone},
		{"the Service targets the container's port", len(o.svc.Spec.Ports) == 1 && o.svc.Spec.Ports[0].TargetPort.String() == "http" && len(gw.Ports) == 1 && gw.Ports[0].Name == "http"},
		{"the PodDisruptionBudget selects the pods", o.pdb.Spec.Selector != nil && matches(o.pdb.Spec.Selector.MatchLabels, pod.Labels)},
		{"the PodDisruptionBudget lets one pod go at a time", o.pdb.Spec.MaxUnavailable != nil && o.pdb.Spec.MaxUnavailable.IntValue() == 1},
		{"the HorizontalPodAutoscaler scales the Deployment", o.hpa.Spec.ScaleTargetRef.Kind == "Deployment" && o.hpa.Spec.ScaleTargetRef.Name == o.deploy.Name && o.hpa.Spec.ScaleTargetRef.APIVersion == "apps/v1"},
		{"the HorizontalPodAutoscaler keeps at least 2 pods", o.hpa.Spec.MinReplicas != nil && *o.hpa.Spec.MinReplicas >= 2 && o.hpa.Spec.MaxReplicas >= *o.hpa.Spec.MinReplicas},
		{"the HorizontalPodAutoscaler has a metric", len(o.hpa.Spec.Metrics) > 0},
		{"readiness is /readyz", gw.ReadinessProbe != nil && gw.ReadinessProbe.HTTPGet != nil && gw.ReadinessProbe.HTTPGet.Path == "/readyz"},
		{"liveness is /healthz", gw.LivenessProbe != nil && gw.LivenessProbe.HTTPGet != nil && gw.LivenessProbe.HTTPGet.Path == "/healthz"},
		{"the pod runs as non-root", psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot && psc.RunAsUser != nil && *psc.RunAsUser != 0},
		{"the container cannot escalate, drops all capabilities, has a read-only root", csc != nil && csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation &&
			csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem && csc.Capabilities != nil && slices.Contains(csc.Capabilities.Drop, "ALL")},
		{"the pod has a seccomp profile", psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault},
		{"the drain fits the grace period", pod.Spec.TerminationGracePeriodSeconds != nil && *pod.Spec.TerminationGracePeriodSeconds >= 30 && env["SWITCHBOARD_DRAIN_DELAY"].Value != ""},
		{"scale-out is on: Redis from the Secret", env["SWITCHBOARD_CLUSTER_REDIS"].ValueFrom != nil && env["SWITCHBOARD_CLUSTER_REDIS"].ValueFrom.SecretKeyRef != nil && env["SWITCHBOARD_CLUSTER_REDIS"].ValueFrom.SecretKeyRef.Name == o.secret.Name},
		{"the database is shared: its URL and the master key from the Secret", fromSecret(env["SWITCHBOARD_DATABASE_URL"], o.secret.Name, "database-url") && fromSecret(env["SWITCHBOARD_MASTER_KEY"], o.secret.Name, "master-key")},
		{"no fixed instance id (a restarted container is a new instance)", env["SWITCHBOARD_INSTANCE_ID"].Name == ""},
		{"the session keys are mounted from the Secret", volumes["keys"].Secret != nil && volumes["keys"].Secret.SecretName == o.secret.Name &&
			strings.HasPrefix(env["SWITCHBOARD_SESSION_KEYS"].Value, mounts["keys"].MountPath+"/")},
		{"the configuration is mounted from the ConfigMap", volumes["config"].ConfigMap != nil && volumes["config"].ConfigMap.Name == o.cm.Name &&
			slices.Contains(gw.Args, "--config="+mounts["config"].MountPath+"/config.yaml")},
		{"the data directory is writable", volumes["data"].EmptyDir != nil && slices.Contains(gw.Args, "--data-dir="+mounts["data"].MountPath)},
		{"the gateway listens on all interfaces", slices.Contains(gw.Args, "--addr=0.0.0.0:8080") && gw.Ports[0].ContainerPort == 8080},
		{"the image is set by the kustomization", len(k.Images) == 1 && k.Images[0].Name == gw.Image},
	}
	for _, r := range rules {
		if !r.ok {
			t.Errorf("rule broken: %s", r.name)
		}
	}
	for _, m := range gw.VolumeMounts {
		for _, n := range gw.VolumeMounts {
			if m.Name != n.Name && strings.HasPrefix(n.MountPath, m.MountPath+"/") {
				t.Errorf("mount %s (%s) is inside mount %s (%s)", n.Name, n.MountPath, m.Name, m.MountPath)
			}
		}
	}
	for _, ref := range []string{"redis-url", "admin-token", "database-url", "master-key"} {
		if _, ok := o.secret.StringData[ref]; !ok {
			t.Errorf("the Secret has no %s", ref)
		}
	}
}

// The ConfigMap holds a configuration the gateway accepts, and the
// Secret a session key set it can load.
func TestConfigAndKeys(t *testing.T) {
	_, o := load(t)
	cfgText, ok := o.cm.Data["config.yaml"]
	if !ok {
		t.Fatal("the ConfigMap has no config.yaml")
	}
	env := map[string]string{"SWITCHBOARD_CLUSTER_REDIS": "redis://redis:6379/0"}
	cfg, err := config.Parse([]byte(cfgText), config.FormatAuto, &config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if cfg.Limits == nil || cfg.Limits.Store != "redis" {
		t.Errorf("config.yaml: limits are not shared through Redis: %+v", cfg.Limits)
	}
	keys, err := seal.ParseKeySet([]byte(o.secret.StringData["session-keys.json"]))
	if err != nil {
		t.Fatalf("session-keys.json: %v", err)
	}
	fmt.Println("session key set: primary", keys.Primary())
}

func fromSecret(e corev1.EnvVar, secret, key string) bool {
	return e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret && e.ValueFrom.SecretKeyRef.Key == key
}
