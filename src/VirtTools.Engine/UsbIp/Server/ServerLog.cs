using System.Globalization;
using System.Net;
using System.Text;

using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>What a peer can make the server log as often as it likes; each is counted per peer in a window.</summary>
internal enum PeerEvent
{
    Denied,
    ClientLimit,
    ServerFull,
    Evicted,
    Timeout,
    ProtocolError,
    ImportRefused,
    ConnectionLost,
    TlsRefused,
    GrantDenied,
    ListNarrowed,
}

/// <summary>
/// The server's log, the one place its lines are made safe. Text a peer sent is escaped (a bus id holding a newline
/// cannot forge a second, genuine-looking line), and events a peer can repeat at will are rate-limited: the first of a
/// kind from a peer in a window is written, the rest are counted and written as one line when the window ends
/// ("127.0.0.2: 5,312 connections denied in the last 10 s"). The tallies are bounded, so a network of addresses
/// shares one for "other clients".
/// </summary>
internal sealed class ServerLog : IDisposable
{
    /// <summary>How much of a peer's text a line quotes; a bus id field is 32 bytes.</summary>
    public const int MaxQuotedLength = 40;

    private const int MaxTallies = 1024;
    private const string OtherClients = "other clients";

    private readonly Action<string>? _sink;
    private readonly Func<TimeSpan> _now;
    private readonly Dictionary<(string Peer, PeerEvent Event), Tally> _tallies = new();
    private readonly Timer? _flusher;

    /// <param name="now">A monotonic clock (tests pass their own and call <see cref="Flush"/>); null: the system's,
    /// with a timer that writes the counts of windows that ended.</param>
    public ServerLog(Action<string>? sink, TimeSpan window, Func<TimeSpan>? now = null)
    {
        _sink = sink;
        Window = window;
        if (now is null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _now = () => clock.Elapsed;
            if (sink is not null) _flusher = new Timer(_ => Flush(), null, window, window);
        }
        else _now = now;
    }

    public TimeSpan Window { get; }

    /// <summary>A line about the server itself, or about a peer in text the server chose.</summary>
    public void Write(string line) => _sink?.Invoke(line);

    /// <summary>An event a peer caused: written when it is the first of its kind from that peer in the window, else counted.</summary>
    public void Peer(IPAddress? peer, PeerEvent kind, string detail)
    {
        if (_sink is null) return;
        var now = _now();
        string? ended = null;
        var first = false;
        lock (_tallies)
        {
            var key = (Name(peer), kind);
            if (!_tallies.ContainsKey(key) && _tallies.Count >= MaxTallies) key = (OtherClients, kind);
            if (!_tallies.TryGetValue(key, out var tally) || now - tally.Start >= Window)
            {
                ended = tally?.Summary(key.Item1, kind, Window);
                _tallies[key] = new Tally(now);
                first = true;
            }
            else tally.Count++;
        }
        if (ended is not null) _sink(ended);
        if (first) _sink($"{Name(peer)}: {detail}");
    }

    /// <summary>Writes the counts of the windows that have ended and forgets them.</summary>
    public void Flush() => Flush(everything: false);

    private void Flush(bool everything)
    {
        if (_sink is null) return;
        var now = _now();
        var lines = new List<string>();
        lock (_tallies)
        {
            foreach (var (key, tally) in _tallies.Where(t => everything || now - t.Value.Start >= Window).ToList())
            {
                if (tally.Summary(key.Peer, key.Event, Window) is { } line) lines.Add(line);
                _tallies.Remove(key);
            }
        }
        foreach (var line in lines) _sink(line);
    }

    /// <summary>
    /// A peer's text fit for one log line: printable ASCII stays, everything else (control characters, newlines,
    /// quotes, backslashes, non-ASCII) becomes \xNN per byte as it came off the wire, and more than <see cref="MaxQuotedLength"/>
    /// characters end in "...".
    /// </summary>
    public static string Escape(string text) => UsbIpPeerText.Escape(text, MaxQuotedLength);

    private static string Name(IPAddress? peer) => peer?.ToString() ?? "unknown peer";

    /// <summary>Stops the timer and writes every count, ended window or not.</summary>
    public void Dispose()
    {
        _flusher?.Dispose();
        Flush(everything: true);
    }

    private sealed class Tally(TimeSpan start)
    {
        public TimeSpan Start { get; } = start;

        public long Count { get; set; } = 1;

        /// <summary>The count line, when there was more than the one line already written.</summary>
        public string? Summary(string peer, PeerEvent kind, TimeSpan window) => Count < 2 ? null
            : string.Create(CultureInfo.InvariantCulture, $"{peer}: {Count:N0} {Phrase(kind)} in the last {window.TotalSeconds:0.#} s");

        private static string Phrase(PeerEvent kind) => kind switch
        {
            PeerEvent.Denied => "connections denied",
            PeerEvent.ClientLimit => "connections refused at the client's connection limit",
            PeerEvent.ServerFull => "connections refused with every slot serving a request",
            PeerEvent.Evicted => "silent connections closed to make room",
            PeerEvent.Timeout => "connections closed without a complete request in time",
            PeerEvent.ProtocolError => "protocol errors",
            PeerEvent.ConnectionLost => "connections lost before the reply was sent",
            PeerEvent.GrantDenied => "imports denied by the grants",
            PeerEvent.ListNarrowed => "device lists narrowed by the grants",
            PeerEvent.TlsRefused => "TLS connections refused (handshake, certificate, or plain USB/IP under --require-tls)",
            _ => "imports refused",
        };
    }
}
