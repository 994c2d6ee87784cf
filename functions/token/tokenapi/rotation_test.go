package tokenapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/secretsemu"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
	"github.com/pufinid/pufinid-api/shared/token"
)

// In Lambda the token function is its secret's rotation function: a new
// stack's first rotation, sent as Secrets Manager sends it, makes the
// first key, publishes it, and the function then signs with it.
func TestTheTokenFunctionRotatesItsSecret(t *testing.T) {
	t.Parallel()
	sm, err := secretsemu.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	arn := sm.Put("keys", `{"keys":[]}`) // as template.yaml creates it
	env := apitest.New(t)
	mustUser(t, env, "ana")
	fe := env.FunctionEnv(nil, map[string]string{secretkeys.EnvSecret: arn, secretkeys.EnvEndpoint: sm.URL})
	fe.SigningKeys = nil // as in Lambda: the secret
	h, err := tokenapi.Setup(context.Background(), fe)
	if err != nil {
		t.Fatal(err)
	}
	eh, ok := h.(lambdafn.EventHandler)
	if !ok {
		t.Fatalf("the token function's handler (%T) takes no rotation events", h)
	}
	if err := sm.BeginRotation(arn, "first-rotation"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		payload, _ := json.Marshal(map[string]string{"SecretId": arn, "ClientRequestToken": "first-rotation", "Step": step})
		if lambdafn.IsHTTPEvent(payload) {
			t.Fatal("a rotation event taken for an HTTP request")
		}
		if _, err := eh.HandleEvent(context.Background(), payload); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	doc, found, err := env.Store.PublicKeys(context.Background())
	if err != nil || !found {
		t.Fatalf("published: %v %v", found, err)
	}
	set, err := token.ParseKeySet(doc)
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("published set %s: %v", doc, err)
	}
	c := env.Client(h, tokenapi.Routes(tokenapi.Deps{}).Routes())
	if resp := c.Do(http.MethodPost, "/v1/token/", map[string]string{"username": "ana", "password": pw}); resp.Status != http.StatusOK {
		t.Fatalf("login after the first rotation: %d %s", resp.Status, resp.Body)
	}
	if _, err := eh.HandleEvent(context.Background(), []byte(`{"hello":"world"}`)); err == nil {
		t.Error("an event that is no rotation step was taken")
	}
	// Every HTTP event of the replay is told from a rotation event.
	events, _ := filepath.Glob(filepath.Join("..", "..", "..", "events", "token", "*.json"))
	for _, p := range events {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(p) == ".json" && !isExpected(p) && !lambdafn.IsHTTPEvent(b) {
			t.Errorf("%s is not told from a rotation event", p)
		}
	}
}

func isExpected(p string) bool { return len(p) > 14 && p[len(p)-14:] == ".expected.json" }
