package main

import (
	"testing"

	"github.com/pufinid/pufinid-api/shared/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "FaqFunction", setup)
}
