package apigateway

import (
	"crypto/sha256"
	"encoding/hex"
)

// payloadHash is the hex SHA-256 of a body, as SigV4 signs it.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
