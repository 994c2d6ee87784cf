package main

import (
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "TokenFunction", tokenapi.Setup)
}
