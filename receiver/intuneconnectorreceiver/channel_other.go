//go:build !windows

package intuneconnectorreceiver

import "go.uber.org/zap"

// platformChannelOpener is nil off Windows: there are no channels to read.
func platformChannelOpener(RemoteConfig, *zap.Logger) channelOpener { return nil }
