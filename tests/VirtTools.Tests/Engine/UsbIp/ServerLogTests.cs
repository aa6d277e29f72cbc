using System.Net;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The server's log: a peer's text cannot make a line of its own, and a peer's repetition becomes a count.</summary>
public sealed class ServerLogTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Denied = IPAddress.Parse("127.0.0.2");

    [Theory]
    [InlineData("1-1.2", "1-1.2")]
    [InlineData("\n10.0.0.9: imported 1-1 (46f4:0001)", "\\x0a10.0.0.9: imported 1-1 (46f4:0001)")]
    [InlineData("a\r\tb\0c\x1b[31m", "a\\x0d\\x09b\\x00c\\x1b[31m")]
    [InlineData("quote\" back\\slash", "quote\\x22 back\\x5cslash")]
    [InlineData("\u00c3\u00a9\u00ff", "\\xc3\\xa9\\xff")] // wire bytes read one a character (Latin-1)
    [InlineData("é\u2028\uFFFD", "\\xe9\\x2028\\xfffd")] // what never comes off the wire still cannot forge a line
    [InlineData("\x7f", "\\x7f")]
    public void Peer_text_keeps_printable_ASCII_and_escapes_every_other_byte(string text, string logged) =>
        Assert.Equal(logged, ServerLog.Escape(text));

    [Fact]
    public void Peer_text_is_capped_in_length()
    {
        var escaped = ServerLog.Escape(new string('\n', 1000));
        Assert.Equal(ServerLog.MaxQuotedLength * 4 + 3, escaped.Length);
        Assert.EndsWith("...", escaped);
        Assert.Equal(new string('x', ServerLog.MaxQuotedLength), ServerLog.Escape(new string('x', ServerLog.MaxQuotedLength)));
    }

    [Fact]
    public void The_first_event_of_a_kind_from_a_peer_is_written_and_the_rest_of_the_window_becomes_one_count()
    {
        var clock = TimeSpan.Zero;
        var lines = new List<string>();
        var log = new ServerLog(lines.Add, Window, () => clock);
        for (var i = 0; i < 5312; i++)
        {
            log.Peer(Denied, PeerEvent.Denied, "not an allowed client; connection closed at once.");
            clock += TimeSpan.FromMilliseconds(1);
        }
        Assert.Equal(new[] { "127.0.0.2: not an allowed client; connection closed at once." }, lines);

        log.Flush(); // 5.3 s in: the window has not ended
        Assert.Single(lines);
        clock = Window;
        log.Flush();
        Assert.Equal("127.0.0.2: 5,312 connections denied in the last 10 s", lines[1]);
        log.Flush();
        Assert.Equal(2, lines.Count);
    }

    [Fact]
    public void An_event_after_the_window_writes_the_count_then_itself()
    {
        var clock = TimeSpan.Zero;
        var lines = new List<string>();
        var log = new ServerLog(lines.Add, Window, () => clock);
        log.Peer(Denied, PeerEvent.Denied, "denied.");
        log.Peer(Denied, PeerEvent.Denied, "denied.");
        clock = Window + TimeSpan.FromSeconds(1);
        log.Peer(Denied, PeerEvent.Denied, "denied.");
        Assert.Equal(new[] { "127.0.0.2: denied.", "127.0.0.2: 2 connections denied in the last 10 s", "127.0.0.2: denied." }, lines);
    }

    [Fact]
    public void A_single_event_writes_no_count_and_kinds_and_peers_are_counted_apart()
    {
        var clock = TimeSpan.Zero;
        var lines = new List<string>();
        var log = new ServerLog(lines.Add, Window, () => clock);
        log.Peer(Denied, PeerEvent.Denied, "denied.");
        log.Peer(Denied, PeerEvent.Timeout, "too slow.");
        log.Peer(Denied, PeerEvent.Timeout, "too slow.");
        log.Peer(IPAddress.Parse("::1"), PeerEvent.Timeout, "too slow.");
        clock = Window;
        log.Flush();
        Assert.Equal(new[]
        {
            "127.0.0.2: denied.", "127.0.0.2: too slow.", "::1: too slow.",
            "127.0.0.2: 2 connections closed without a complete request in time in the last 10 s",
        }, lines);
    }

    [Fact]
    public void Many_addresses_share_one_bounded_tally()
    {
        var lines = new List<string>();
        var log = new ServerLog(lines.Add, Window, () => TimeSpan.Zero);
        for (var i = 0; i < 100_000; i++)
            log.Peer(new IPAddress(0x0a000000u + (uint)i), PeerEvent.Denied, "denied.");
        // 1,024 tallies of one address each; the next address's line is written, and it and the rest are counted together.
        Assert.Equal(1025, lines.Count);
        log.Dispose();
        Assert.Equal(1026, lines.Count);
        Assert.Equal("other clients: 98,976 connections denied in the last 10 s", lines[^1]);
    }

    [Fact]
    public void Disposing_writes_the_counts_of_windows_still_open()
    {
        var lines = new List<string>();
        var log = new ServerLog(lines.Add, Window, () => TimeSpan.Zero);
        log.Peer(Denied, PeerEvent.ProtocolError, "garbage.");
        log.Peer(Denied, PeerEvent.ProtocolError, "garbage.");
        log.Dispose();
        Assert.Equal("127.0.0.2: 2 protocol errors in the last 10 s", lines[^1]);
    }
}
