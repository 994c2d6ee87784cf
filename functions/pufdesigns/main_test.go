package main

import (
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "PufDesignsFunction", pufdesignsapi.Setup)
}
