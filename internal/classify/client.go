package classify

import "strings"

// The email clients the user-agent matcher names. An empty client means unknown.
const (
	ClientGmail       = "gmail"
	ClientAppleMail   = "apple_mail"
	ClientOutlook     = "outlook"
	ClientYahoo       = "yahoo"
	ClientThunderbird = "thunderbird"
)

// The web browsers a click names as its client when its agent names no mail client (a
// click opens the link in a browser). Opens never get these: a browser fetching the pixel
// is webmail, whose provider the agent does not say.
const (
	ClientChrome          = "chrome"
	ClientSafari          = "safari"
	ClientFirefox         = "firefox"
	ClientEdge            = "edge"
	ClientSamsungInternet = "samsung_internet"
	ClientOpera           = "opera"
)

// The devices the user-agent matcher names. DeviceWebmail is a pixel fetched by a web
// browser, that is a webmail reader; clicks from browsers get their form factor instead.
// An empty device means unknown, as for opens through a provider's image proxy.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceWebmail = "webmail"
)

// deviceFormFactor asks detectClient to derive the device from the platform tokens.
const deviceFormFactor = "<form factor>"

// deviceBrowser marks a plain web browser: webmail for an open, its form factor for a click.
const deviceBrowser = "<browser>"

// clientRule matches when every substring of all and none of none occur in the lowercased
// agent. Substrings are lowercase.
type clientRule struct {
	all    []string
	none   []string
	client string
	device string
}

// clientRules is tried in order; the first match wins, so specific apps come before the
// generic WebKit and browser shapes they embed. The shapes are those the apps send when
// they fetch images themselves (not through a provider's proxy).
//
// This small table is deliberately not a user-agent database. A well-kept library such as
// github.com/medama-io/go-useragent (listed in /work/.library/env/packages/go-partial.tsv)
// could replace the browser and form-factor part; it was not added because this round
// allows no go.mod change, and it would still not know mail clients (Apple Mail, Outlook
// desktop, Thunderbird), which need the rules below anyway.
var clientRules = []clientRule{
	{all: []string{"outlook-ios"}, client: ClientOutlook, device: DeviceMobile},
	{all: []string{"outlook-android"}, client: ClientOutlook, device: DeviceMobile},
	// Outlook for Windows: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)".
	{all: []string{"microsoft outlook"}, client: ClientOutlook, device: DeviceDesktop},
	// Older Outlook for Windows (Word renderer): "Mozilla/4.0 (compatible; ms-office; MSOffice 16)".
	{all: []string{"msoffice"}, client: ClientOutlook, device: DeviceDesktop},
	{all: []string{"thunderbird"}, client: ClientThunderbird, device: DeviceDesktop},
	{all: []string{"googleimageproxy"}, client: ClientGmail},
	{all: []string{"yahoomailproxy"}, client: ClientYahoo},
	// Yahoo Mail app (shape not confirmed from a primary source).
	{all: []string{"yahoomobile"}, client: ClientYahoo, device: DeviceMobile},
	// Apple Mail renders in WebKit without the "Safari/" token a browser adds:
	// "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148".
	// Outlook for Mac sends the same shape as Apple Mail for macOS and is counted as it.
	{all: []string{"applewebkit", "ipad"}, none: []string{"safari", "crios", "fxios", "edgios", "gsa/"}, client: ClientAppleMail, device: DeviceTablet},
	{all: []string{"applewebkit", "iphone"}, none: []string{"safari", "crios", "fxios", "edgios", "gsa/"}, client: ClientAppleMail, device: DeviceMobile},
	{all: []string{"applewebkit", "macintosh"}, none: []string{"safari", "chrome", "firefox"}, client: ClientAppleMail, device: DeviceDesktop},
	{all: []string{"chrome/"}, device: deviceBrowser},
	{all: []string{"firefox/"}, device: deviceBrowser},
	{all: []string{"safari/"}, device: deviceBrowser},
	{all: []string{"edg/"}, device: deviceBrowser},
}

func (r clientRule) match(lua string) bool {
	for _, s := range r.all {
		if !strings.Contains(lua, s) {
			return false
		}
	}
	for _, s := range r.none {
		if strings.Contains(lua, s) {
			return false
		}
	}
	return true
}

// detectClient returns the email client and device for a lowercased user agent; open
// says whether the request fetched the pixel (a browser then means webmail). Unknown
// values are "".
func detectClient(lua string, open bool) (client, device string) {
	for _, r := range clientRules {
		if !r.match(lua) {
			continue
		}
		device = r.device
		if device == deviceBrowser {
			if open {
				device = DeviceWebmail
			} else {
				device = formFactor(lua)
				return browserName(lua), device
			}
		}
		return r.client, device
	}
	return "", ""
}

// formFactor reads the platform tokens of a browser agent. iPadOS Safari presents itself
// as a Mac by default and is reported as desktop.
func formFactor(lua string) string {
	switch {
	case strings.Contains(lua, "ipad"), strings.Contains(lua, "tablet"),
		strings.Contains(lua, "android") && !strings.Contains(lua, "mobile"):
		return DeviceTablet
	case strings.Contains(lua, "iphone"), strings.Contains(lua, "android"), strings.Contains(lua, "mobile"):
		return DeviceMobile
	case strings.Contains(lua, "windows"), strings.Contains(lua, "macintosh"),
		strings.Contains(lua, "x11"), strings.Contains(lua, "cros"), strings.Contains(lua, "linux"):
		return DeviceDesktop
	}
	return ""
}

// browserName names the browser of a click's agent. Browsers built on Chrome or Safari
// keep their engine's tokens, so their own tokens are tried first; iOS browsers use
// WebKit and name themselves with their own token (CriOS, FxiOS, EdgiOS, OPiOS).
func browserName(lua string) string {
	switch {
	case strings.Contains(lua, "edg/"), strings.Contains(lua, "edga/"), strings.Contains(lua, "edgios/"):
		return ClientEdge
	case strings.Contains(lua, "samsungbrowser/"):
		return ClientSamsungInternet
	case strings.Contains(lua, "opr/"), strings.Contains(lua, "opios/"), strings.Contains(lua, "opera"):
		return ClientOpera
	case strings.Contains(lua, "firefox/"), strings.Contains(lua, "fxios/"):
		return ClientFirefox
	case strings.Contains(lua, "crios/"), strings.Contains(lua, "chrome/"):
		return ClientChrome
	case strings.Contains(lua, "safari/"):
		return ClientSafari
	}
	return ""
}
