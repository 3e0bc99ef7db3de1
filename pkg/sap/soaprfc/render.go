package soaprfc

// EncodeRequest returns the SOAP envelope that Call posts to run function
// module fm with params, so that a request can be shown without sending
// it. Parameters take the shapes that Call accepts.
func EncodeRequest(fm string, params map[string]any) ([]byte, error) {
	return encodeRequest(fm, params)
}
