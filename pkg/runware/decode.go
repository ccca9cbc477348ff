package runware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG decoder checkImage uses
	_ "image/png"  // registers the PNG decoder checkImage uses
	"mime"
	"net/http"
	"strings"
)

// result is one element of the data array of a successful answer.
type result struct {
	TaskType    string  `json:"taskType"`
	TaskUUID    string  `json:"taskUUID"`
	ImageUUID   string  `json:"imageUUID"`
	ImageURL    string  `json:"imageURL"`
	NSFWContent bool    `json:"NSFWContent"`
	Cost        float64 `json:"cost"`
}

// response is Runware's answer: a data array on success, an errors array on failure.
type response struct {
	Data   []result   `json:"data"`
	Errors []APIError `json:"errors"`
}

// decodeResponse reads the answer to the task taskUUID. An error array becomes ErrRejected wrapping
// the first *APIError, or a transient error when the status or the code says a retry may succeed.
// A 2xx answer without an image for the task is ErrUnavailable.
func decodeResponse(status int, body []byte, taskUUID string) (result, error) {
	var r response
	decodeErr := json.Unmarshal(body, &r)
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		e.Status = status
		if transientStatus(status) || strings.HasPrefix(strings.ToLower(e.Code), "timeout") {
			return result{}, &transientError{err: &e}
		}
		return result{}, fmt.Errorf("runware: %w: %w", ErrRejected, &e)
	}
	if status < 200 || status > 299 {
		err := fmt.Errorf("runware status %d without an error array", status)
		if transientStatus(status) {
			return result{}, &transientError{err: err}
		}
		return result{}, fmt.Errorf("runware: %w: %w", ErrRejected, err)
	}
	if decodeErr != nil {
		return result{}, fmt.Errorf("runware: unreadable answer: %w: %w", ErrUnavailable, decodeErr)
	}
	for _, d := range r.Data {
		if d.TaskUUID == taskUUID && d.TaskType == "imageInference" {
			if d.ImageURL == "" {
				return result{}, fmt.Errorf("runware: result without an image URL: %w", ErrUnavailable)
			}
			return d, nil
		}
	}
	return result{}, fmt.Errorf("runware: no result for task %s: %w", taskUUID, ErrUnavailable)
}

// checkImage checks that data is a JPEG or PNG image whose declared content type, sniffed type and
// whole image decodes, of exactly width×height pixels, and returns its dimensions.
func checkImage(data []byte, contentType string, width, height int) (int, int, error) {
	declared, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, 0, fmt.Errorf("runware: image content type %q: %w", contentType, ErrBadImage)
	}
	sniffed := http.DetectContentType(data)
	if declared != sniffed || (declared != "image/jpeg" && declared != "image/png") {
		return 0, 0, fmt.Errorf("runware: image declared %s, looks like %s: %w", declared, sniffed, ErrBadImage)
	}
	// The header first, so that a huge declared size is refused before any pixel is decoded.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err == nil && (cfg.Width != width || cfg.Height != height) {
		return 0, 0, fmt.Errorf("runware: image is %d×%d, asked for %d×%d: %w", cfg.Width, cfg.Height, width,
			height, ErrBadImage)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || "image/"+format != declared {
		return 0, 0, fmt.Errorf("runware: image does not decode as %s: %w", declared, ErrBadImage)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w != width || h != height {
		return 0, 0, fmt.Errorf("runware: image is %d×%d, asked for %d×%d: %w", w, h, width, height, ErrBadImage)
	}
	return w, h, nil
}
