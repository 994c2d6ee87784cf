package main

import (
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "FaqFunction", faqapi.Setup)
}
