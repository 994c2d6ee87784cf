// Package web holds the HTTP conventions every endpoint group shares: the
// router (trailing slash optional, DRF-style 404 and 405), JSON request
// decoding (400, 413, 415) and field validation with Django REST Framework's
// messages, the single mapping from apierror codes to HTTP statuses and
// bodies, limit/offset pages, and the per-request structured logger carrying
// the API Gateway request id.
package web
