// Package secretsemu serves the part of AWS Secrets Manager's API the
// project uses (CreateSecret, GetSecretValue, PutSecretValue,
// DescribeSecret, UpdateSecretVersionStage, with the AWSCURRENT,
// AWSPREVIOUS and AWSPENDING stages and client request tokens as the
// rotation protocol uses them), over its JSON 1.1 protocol, on a
// local port: what the replay, the cold-start benchmark, cmd/keys' tests
// and the signing key tests point SECRETS_MANAGER_ENDPOINT at. No
// Secrets Manager emulator can be installed here (LocalStack needs
// Docker), so this small one stands in; the functions' client is the real
// SDK client, and Latency gives each answer AWS's typical delay.
//
// It is for tools and tests only, never linked by a function.
package secretsemu

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Emulator is a running Secrets Manager.
type Emulator struct {
	URL string
	// Latency delays every answer.
	Latency time.Duration
	// Calls counts requests by operation ("GetSecretValue").
	calls   sync.Map
	mu      sync.Mutex
	secrets map[string]*secret // by name
	srv     *http.Server
	seq     atomic.Int64
}

type version struct {
	id     string
	value  string
	stages []string
	empty  bool // created by a rotation, before its createSecret step
}

type secret struct {
	name, arn string
	versions  []*version
}

// Start serves an empty Secrets Manager on a free loopback port.
func Start() (*Emulator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &Emulator{URL: "http://" + ln.Addr().String(), secrets: map[string]*secret{}}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Close stops it.
func (e *Emulator) Close() error { return e.srv.Close() }

// Calls is how many requests of op it answered.
func (e *Emulator) Calls(op string) int64 {
	v, ok := e.calls.Load(op)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

// Put creates the secret name, or gives it a new current value, as
// CreateSecret or PutSecretValue would; it returns the secret's ARN.
func (e *Emulator) Put(name, value string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.put(name, value)
}

func (e *Emulator) put(name, value string) string {
	s, ok := e.secrets[name]
	if !ok {
		s = &secret{name: name, arn: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:000000000000:secret:%s-%06d", name, e.seq.Add(1))}
		e.secrets[name] = s
	}
	for _, v := range s.versions {
		v.stages = without(v.stages, "AWSPREVIOUS")
		if has(v.stages, "AWSCURRENT") {
			v.stages = append(without(v.stages, "AWSCURRENT"), "AWSPREVIOUS")
		}
	}
	s.versions = append(s.versions, &version{id: fmt.Sprintf("v-%d", e.seq.Add(1)), value: value, stages: []string{"AWSCURRENT"}})
	return s.arn
}

// BeginRotation does what RotateSecret does before it invokes the
// rotation function: a new version, token, labelled AWSPENDING, with no
// value yet (the createSecret step puts it).
func (e *Emulator) BeginRotation(id, token string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.find(id)
	if s == nil {
		return fmt.Errorf("secretsemu: no secret %s", id)
	}
	for _, v := range s.versions {
		v.stages = without(v.stages, "AWSPENDING")
	}
	s.versions = append(s.versions, &version{id: token, stages: []string{"AWSPENDING"}, empty: true})
	return nil
}

func (e *Emulator) find(id string) *secret {
	if s, ok := e.secrets[id]; ok {
		return s
	}
	for _, s := range e.secrets {
		if s.arn == id {
			return s
		}
	}
	return nil
}

func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.Latency > 0 {
		time.Sleep(e.Latency)
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	n, _ := e.calls.LoadOrStore(op, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	var in struct {
		Name, SecretId, SecretString, VersionStage, VersionId, ClientRequestToken string
		VersionStages                                                             []string
		MoveToVersionId, RemoveFromVersionId                                      string
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil {
		fail(w, "InvalidRequestException", "not a Secrets Manager request")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch op {
	case "CreateSecret":
		if e.secrets[in.Name] != nil {
			fail(w, "ResourceExistsException", "the secret "+in.Name+" already exists")
			return
		}
		arn := e.put(in.Name, in.SecretString)
		s := e.secrets[in.Name]
		answer(w, map[string]any{"ARN": arn, "Name": s.name, "VersionId": s.versions[len(s.versions)-1].id})
	case "PutSecretValue":
		s := e.find(in.SecretId)
		if s == nil {
			fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		if in.ClientRequestToken == "" && len(in.VersionStages) == 0 {
			e.put(s.name, in.SecretString)
			v := s.versions[len(s.versions)-1]
			answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "VersionStages": v.stages})
			return
		}
		// A version named by the caller's token: the same token with the
		// same value is a repeat; with another value, an error.
		for _, v := range s.versions {
			if v.id == in.ClientRequestToken && v.empty {
				v.value, v.empty = in.SecretString, false
				for _, st := range in.VersionStages {
					if !has(v.stages, st) {
						v.stages = append(v.stages, st)
					}
				}
				answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "VersionStages": v.stages})
				return
			}
			if v.id == in.ClientRequestToken {
				if v.value != in.SecretString {
					fail(w, "ResourceExistsException", "a version with this ClientRequestToken already exists with another value")
					return
				}
				answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "VersionStages": v.stages})
				return
			}
		}
		stages := in.VersionStages
		if len(stages) == 0 {
			stages = []string{"AWSCURRENT"}
		}
		for _, v := range s.versions { // a stage labels one version
			for _, st := range stages {
				v.stages = without(v.stages, st)
			}
		}
		v := &version{id: cmp(in.ClientRequestToken, fmt.Sprintf("v-%d", e.seq.Add(1))), value: in.SecretString, stages: stages}
		s.versions = append(s.versions, v)
		answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "VersionStages": v.stages})
	case "DescribeSecret":
		s := e.find(in.SecretId)
		if s == nil {
			fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		stages := map[string][]string{}
		for _, v := range s.versions {
			if len(v.stages) > 0 {
				stages[v.id] = v.stages
			}
		}
		answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "RotationEnabled": true, "VersionIdsToStages": stages})
	case "UpdateSecretVersionStage":
		s := e.find(in.SecretId)
		if s == nil {
			fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		var to, from *version
		for _, v := range s.versions {
			if v.id == in.MoveToVersionId {
				to = v
			}
			if has(v.stages, in.VersionStage) {
				from = v
			}
		}
		if to == nil || (from != nil && from != to && from.id != in.RemoveFromVersionId) {
			fail(w, "InvalidParameterException", "the stage is on another version than RemoveFromVersionId, or there is no such version")
			return
		}
		if from != nil && from != to {
			from.stages = without(from.stages, in.VersionStage)
			if in.VersionStage == "AWSCURRENT" { // as Secrets Manager does
				for _, v := range s.versions {
					v.stages = without(v.stages, "AWSPREVIOUS")
				}
				from.stages = append(from.stages, "AWSPREVIOUS")
			}
		}
		if !has(to.stages, in.VersionStage) {
			to.stages = append(to.stages, in.VersionStage)
		}
		if in.VersionStage == "AWSCURRENT" {
			to.stages = without(to.stages, "AWSPENDING")
		}
		answer(w, map[string]any{"ARN": s.arn, "Name": s.name})
	case "GetSecretValue":
		s := e.find(in.SecretId)
		if s == nil {
			fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		stage := in.VersionStage
		if stage == "" && in.VersionId == "" {
			stage = "AWSCURRENT"
		}
		for _, v := range s.versions {
			if (in.VersionId == "" || v.id == in.VersionId) && (stage == "" || has(v.stages, stage)) && !v.empty {
				answer(w, map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": v.id, "SecretString": v.value,
					"VersionStages": v.stages, "CreatedDate": json.Number(strconv.FormatInt(time.Now().Unix(), 10))})
				return
			}
		}
		fail(w, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+stage)
	default:
		fail(w, "InvalidRequestException", "operation "+op+" is not emulated")
	}
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func has(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func without(l []string, s string) []string {
	out := l[:0:0]
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
