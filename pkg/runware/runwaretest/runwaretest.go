// Package runwaretest is a fake of Runware's image inference REST API for tests: it checks requests
// as the real API does (Bearer key, a JSON array of imageInference tasks), answers with the data or
// errors array, and serves the generated JPEG at the URL it returns.
package runwaretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is the API key the fake accepts.
const Key = "test-runware-key"

// Cost is what the fake charges per image when a Reply sets none.
const Cost = 0.0013

// Reply scripts one answer of the fake. The zero Reply is a successful generation.
type Reply struct {
	// Status with Errors answers an error array; Status alone (5xx) answers an empty body.
	Status int
	Errors []Error
	// NSFW sets NSFWContent on the result.
	NSFW bool
	// Delay holds the answer back (or until the client gives up).
	Delay time.Duration
	// ImageSize, when set, makes the served image that many pixels wide and high instead of the
	// task's size.
	ImageSize int
	// ImagePadding appends that many bytes to the served JPEG (an oversized image).
	ImagePadding int
	// ImageType, when set, is the Content-Type the image is served with.
	ImageType string
}

// Error is one element of the fake's error array, as Runware documents it.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
	TaskType  string `json:"taskType,omitempty"`
	TaskUUID  string `json:"taskUUID,omitempty"`
}

// Task is one task as the fake received it.
type Task struct {
	TaskType       string `json:"taskType"`
	TaskUUID       string `json:"taskUUID"`
	PositivePrompt string `json:"positivePrompt"`
	Model          string `json:"model"`
	Width          int    `json:"width"`
	Height         int    `json:"height"`
	NumberResults  int    `json:"numberResults"`
	OutputType     string `json:"outputType"`
	OutputFormat   string `json:"outputFormat"`
	CheckNSFW      bool   `json:"checkNSFW"`
	IncludeCost    bool   `json:"includeCost"`
}

// Server is a running fake.
type Server struct {
	srv *httptest.Server

	mu      sync.Mutex
	script  []Reply
	tasks   []Task
	images  map[string]served
	fetches int
}

type served struct {
	reply Reply
	size  int
}

// New starts a fake on 127.0.0.1, closed when tb ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{images: map[string]served{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1", s.inference)
	mux.HandleFunc("GET /image/{name}", s.image)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the API endpoint of the fake (runware.Config.BaseURL).
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Script queues replies for the next requests, in order; once they are used the fake succeeds.
func (s *Server) Script(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, r...)
}

// Tasks returns the tasks received so far, valid or not.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Task(nil), s.tasks...)
}

// Fetches returns how many images were served.
func (s *Server) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func (s *Server) inference(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErrors(w, http.StatusMethodNotAllowed, Error{Code: "invalidMethod", Message: "Use POST."})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+Key {
		writeErrors(w, http.StatusUnauthorized, Error{Code: "invalidApiKey", Message: "Invalid API key.",
			Parameter: "apiKey", TaskType: "authentication"})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var tasks []Task
	if err := json.Unmarshal(body, &tasks); err != nil || len(tasks) == 0 {
		writeErrors(w, http.StatusBadRequest, Error{Code: "invalidRequest",
			Message: "The body must be a JSON array of tasks."})
		return
	}
	s.mu.Lock()
	s.tasks = append(s.tasks, tasks...)
	reply := Reply{}
	if len(s.script) > 0 {
		reply, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	t := tasks[0]
	if len(reply.Errors) > 0 {
		for i := range reply.Errors {
			reply.Errors[i].TaskType, reply.Errors[i].TaskUUID = t.TaskType, t.TaskUUID
		}
		writeErrors(w, reply.Status, reply.Errors...)
		return
	}
	if reply.Status != 0 {
		w.WriteHeader(reply.Status)
		return
	}
	if e, ok := invalid(t); !ok {
		e.TaskType, e.TaskUUID = t.TaskType, t.TaskUUID
		writeErrors(w, http.StatusBadRequest, e)
		return
	}
	name := t.TaskUUID + ".jpg"
	size := t.Width
	if reply.ImageSize != 0 {
		size = reply.ImageSize
	}
	s.mu.Lock()
	s.images[name] = served{reply: reply, size: size}
	s.mu.Unlock()
	result := map[string]any{
		"taskType":    t.TaskType,
		"taskUUID":    t.TaskUUID,
		"imageUUID":   t.TaskUUID,
		"imageURL":    s.srv.URL + "/image/" + name,
		"NSFWContent": reply.NSFW,
	}
	if t.IncludeCost {
		result["cost"] = Cost
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{result}})
}

// invalid checks a task as the API does and names the first parameter it refuses.
func invalid(t Task) (Error, bool) {
	bad := func(param, msg string) (Error, bool) {
		return Error{Code: "invalidParameter", Message: msg, Parameter: param}, false
	}
	switch {
	case t.TaskType != "imageInference":
		return bad("taskType", "Only imageInference is faked.")
	case !uuidV4.MatchString(t.TaskUUID):
		return bad("taskUUID", "taskUUID must be a UUID v4.")
	case len(strings.TrimSpace(t.PositivePrompt)) < 2 || len(t.PositivePrompt) > 3000:
		return bad("positivePrompt", "positivePrompt must hold 2 to 3000 characters.")
	case t.Model == "":
		return bad("model", "model is required.")
	case t.Width%64 != 0 || t.Width < 128 || t.Width > 2048:
		return bad("width", "width must be a multiple of 64 between 128 and 2048.")
	case t.Height%64 != 0 || t.Height < 128 || t.Height > 2048:
		return bad("height", "height must be a multiple of 64 between 128 and 2048.")
	case t.NumberResults != 1:
		return bad("numberResults", "The fake makes one result per task.")
	case t.OutputType != "URL":
		return bad("outputType", "The fake answers URLs only.")
	case t.OutputFormat != "JPG":
		return bad("outputFormat", "The fake makes JPG only.")
	}
	return Error{}, true
}

func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	img, ok := s.images[r.PathValue("name")]
	if ok {
		s.fetches++
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, picture(img.size), &jpeg.Options{Quality: 80})
	buf.Write(make([]byte, img.reply.ImagePadding))
	contentType := "image/jpeg"
	if img.reply.ImageType != "" {
		contentType = img.reply.ImageType
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// picture is a plain gradient of size×size pixels.
func picture(size int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / size), G: uint8(y * 255 / size), B: 160, A: 255})
		}
	}
	return img
}

func writeErrors(w http.ResponseWriter, status int, errs ...Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}
