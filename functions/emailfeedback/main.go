// Command emailfeedback is the Lambda function that records what Amazon
// SES reports back about the emails the users function sends.
package main

import (
	"github.com/pufinid/pufinid-api/functions/emailfeedback/feedback"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.StartEvents(feedback.Setup) }
