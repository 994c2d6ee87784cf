// Command faq is the FAQ group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(faqapi.Setup) }
