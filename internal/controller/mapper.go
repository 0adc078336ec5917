package controller

import (
	"net/http"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// keptMapper remembers the REST mappings it found. The controller's client
// asks for one on every cached read (is the kind namespaced?), and the
// discovery-backed mapper builds the answer anew each time: about a sixth
// of what the controller allocated during W3. A kind's mapping does not
// change while its API exists; a failed lookup is not kept.
type keptMapper struct {
	meta.RESTMapper
	mu   sync.RWMutex
	kept map[string]*meta.RESTMapping
}

func newKeptMapper(cfg *rest.Config, hc *http.Client) (meta.RESTMapper, error) {
	m, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &keptMapper{RESTMapper: m, kept: map[string]*meta.RESTMapping{}}, nil
}

func (m *keptMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	key := gk.String() + "/" + strings.Join(versions, ",")
	m.mu.RLock()
	mp, ok := m.kept[key]
	m.mu.RUnlock()
	if ok {
		return mp, nil
	}
	mp, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.kept[key] = mp
	m.mu.Unlock()
	return mp, nil
}
