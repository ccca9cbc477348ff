package dynamostore

import (
	"bytes"
	"compress/flate"
	"io"
)

// packMin is the length from which packText compresses; shorter text gains too little to be worth it.
const packMin = 256

// packText returns s as it is stored: short text as a plain string, longer text compressed with DEFLATE.
// Message contents and a session's rolling summary are most of the size of a chat turn's items, which
// DynamoDB bills by the kilobyte: a reply is written twice a turn (the reply and its turn item), the
// session item twice (the table and GSI1), and every turn reads the newest messages.
func packText(s string) (plain string, packed []byte) {
	if len(s) < packMin {
		return s, nil
	}
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression) // the level is valid, so there is no error
	_, _ = w.Write([]byte(s))                          // a bytes.Buffer does not fail
	_ = w.Close()
	return "", b.Bytes()
}

// unpackText returns the text packText stored; damaged packed text reads as the plain part.
func unpackText(plain string, packed []byte) string {
	if packed == nil {
		return plain
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(packed)))
	if err != nil {
		return plain
	}
	return string(b)
}
