package soak

// op is one kind of operation of the mix.
type op struct {
	name   string
	weight int
	// expiry: the operation moves the server's clock, so it needs one
	// that can be moved. It runs outside the shared time lock.
	expiry bool
	// run does the operation; false means it did not apply now (no user
	// fits, say) and sent nothing.
	run func(*client) bool
}

// ops is the mix: every operation of the contract, the refused ones
// included, weighted so that the cheap reads dominate and the argon2id
// password checks (about 20 ms of CPU each) stay near a fifth of requests.
var ops = []op{
	{"signup", 4, false, opSignup},
	{"signup_duplicate_email", 1, false, opSignupDuplicateEmail},
	{"signup_duplicate_username", 1, false, opSignupDuplicateUsername},
	{"signup_invalid", 2, false, opSignupInvalid},
	{"login", 2, false, opLogin},
	{"login_wrong_password", 2, false, opLoginWrongPassword},
	{"login_unknown", 1, false, opLoginUnknown},
	{"login_deleted_user", 1, false, opLoginDeleted},
	{"refresh", 6, false, opRefresh},
	{"refresh_not_a_refresh_token", 1, false, opRefreshNotRefresh},
	{"revoke", 3, false, opRevoke},
	{"verify", 8, false, opVerify},
	{"user_get", 10, false, opGetUser},
	{"user_update", 6, false, opUpdateUser},
	{"user_update_invalid", 2, false, opUpdateUserInvalid},
	{"user_other_id", 2, false, opOtherUser},
	{"user_no_token", 1, false, opUserNoToken},
	{"user_delete_wrong_password", 1, false, opDeleteWrongPassword},
	{"user_delete", 1, false, opDeleteUser},
	{"change_password", 1, false, opChangePassword},
	{"change_password_refused", 1, false, opChangePasswordRefused},
	{"change_password_no_token", 1, false, opChangePasswordNoToken},
	{"confirm_email", 3, false, opConfirmEmail},
	{"email_token_wrong", 1, false, opEmailTokenWrong},
	{"resend_confirm_email", 3, false, opSendEmail(routeConfirm)},
	{"resend_confirm_email_no_account", 1, false, opSendEmailNoAccount(routeConfirm)},
	{"send_reset_password_email", 3, false, opSendEmail(routeReset)},
	{"send_reset_password_email_no_account", 1, false, opSendEmailNoAccount(routeReset)},
	{"send_email_malformed_address", 1, false, opSendEmailMalformed},
	{"reset_password", 3, false, opResetPassword},
	{"reset_password_refused", 2, false, opResetPasswordInvalid},
	{"terms_list", 8, false, opTermsList},
	{"terms_get", 3, false, opTermsGet},
	{"terms_accept", 3, false, opTermsAccept},
	{"needs_token", 2, false, opNeedsToken},
	{"faq_list", 5, false, opFAQList},
	{"faq_topic", 3, false, opFAQTopic},
	{"puf_designs_list", 3, false, opPufDesigns},
	{"puf_design_get", 3, false, opPufDesign},
	{"apps_profile", 6, false, opAppsProfile},
	{"conventions", 2, false, opConventions},
	{"race_signup_one_address", 1, false, opRaceSignup},
	{"race_confirm_one_token", 1, false, opRaceConfirm},
	{"race_reset_one_token", 1, false, opRaceReset},
	{"race_revoke_one_token", 1, false, opRaceRevoke},
	{"race_right_logins", 1, false, opRaceRightLogins},
	{"race_delete_one_user", 1, false, opRaceDelete},
	{"race_wrong_passwords", 1, false, opRaceLogin},
	{"race_resend_confirm_email", 1, false, opRaceResend},
	{"clock_advance", 2, true, opAdvance},
}

// pickOp draws an operation of the mix (those the clock allows). A client
// with no user signs one up first, mostly.
func (c *client) pickOp() op {
	if len(c.users) == 0 && c.chance(0.7) {
		return ops[0]
	}
	total := 0
	for _, o := range ops {
		if !o.expiry || c.d.cfg.Advance != nil {
			total += o.weight
		}
	}
	n := c.rng.IntN(total)
	for _, o := range ops {
		if o.expiry && c.d.cfg.Advance == nil {
			continue
		}
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	panic("unreachable")
}
