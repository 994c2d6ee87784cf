package main

import (
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "TermsFunction", termsapi.Setup)
}
