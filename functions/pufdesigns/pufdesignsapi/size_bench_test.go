package pufdesignsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// BenchmarkPageBySize reads the first and the last page of an
// organization's designs at N designs, with no instance cache (every
// call reaches the store): the page cost must not grow with N.
//
//	go test ./functions/pufdesigns/pufdesignsapi -run '^$' -bench PageBySize -benchtime 50x
func BenchmarkPageBySize(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000} {
		designs := make([]pufinid.PufDesign, n)
		for i := range designs {
			designs[i] = design(i+1, orgA, fmt.Sprintf("Design %06d", i))
		}
		env := apitest.New(b)
		env.Load(pufinid.Reference{PufDesigns: designs})
		if err := env.Store.CreateUser(context.Background(), pufinid.User{ID: userA, Email: "a@example.com", OrganizationID: orgA}, nil); err != nil {
			b.Fatal(err)
		}
		d := pufdesignsapi.Deps{Store: env.Store, Tokens: env.Tokens, Log: env.Log}
		c := env.Client(pufdesignsapi.New(d), pufdesignsapi.Routes(d).Routes())
		c.SkipOpenAPI = true
		tok := env.AccessToken(userA)
		for _, pg := range []struct{ name, query string }{{"first", ""}, {"last", fmt.Sprintf("?offset=%d", n-20)}} {
			b.Run(fmt.Sprintf("N=%d/%s", n, pg.name), func(b *testing.B) {
				before := env.Requests.Load()
				for b.Loop() {
					if resp := c.Do(http.MethodGet, "/v1/puf-designs/"+pg.query, nil, apitest.Bearer(tok)); resp.Status != http.StatusOK {
						b.Fatal(resp.Status)
					}
				}
				b.ReportMetric(float64(env.Requests.Load()-before)/float64(b.N), "dynamodb-req/op")
			})
		}
	}
}
