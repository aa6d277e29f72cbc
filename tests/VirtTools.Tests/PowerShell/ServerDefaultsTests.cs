using System.Globalization;
using VirtTools.Host.Commands;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Server;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// `virttools usbipd` and Start-UsbIpServer agree with the unit file: with no address they listen on loopback only,
/// and their allow-list and address arguments follow the strict grammar, failing with the ErrorId.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class ServerDefaultsTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    [Fact]
    public async Task Usbipd_with_no_address_listens_on_loopback_only()
    {
        var (output, outputText) = Shared();
        var (error, errorText) = Shared();
        using var stop = new CancellationTokenSource();
        var daemon = Task.Run(() => UsbIpDaemonCommand.Run(new[] { "usbipd", "--port", "0", "--root", CapturedFixture.Shared }, output, error, stop.Token));
        try
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!outputText().Contains("listening on port ", StringComparison.Ordinal))
            {
                Assert.False(daemon.IsCompleted, $"usbipd ended: {errorText()}");
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "usbipd did not start listening");
                await Task.Delay(20);
            }
            var port = int.Parse(outputText().Trim().Split(' ')[^1], CultureInfo.InvariantCulture);
            var log = errorText();
            Assert.Contains($"listening on 127.0.0.1:{port}", log);
            Assert.DoesNotContain("0.0.0.0", log);
            Assert.DoesNotContain("[::]", log);
        }
        finally
        {
            stop.Cancel();
        }
        Assert.Equal(0, await daemon.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [NetworkNamespaceFact]
    public void Usbipd_with_no_address_falls_back_to_IPv4_loopback_where_IPv6_is_off_and_serves_its_list()
    {
        using var tree = CapturedFixture.CreateCopy();
        tree.File("/sys/bus/usb/devices/2-3/usbip_status", "1"); // the capture's 2-3 was imported; here it is free to list
        using var work = new TemporaryTree("netns");
        // In a namespace of its own: lo up, IPv6 off, the daemon with no --address, then our client lists from inside.
        const string Script =
            """
            set -u
            ip link set lo up || exit 10
            sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || exit 11
            echo "ipv6 off on lo: $(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6)"
            "$VT" usbipd --root "$ROOT" > "$WORK/out" 2> "$WORK/err" &
            daemon=$!
            for i in $(seq 300); do grep -q "listening on port" "$WORK/out" && break; kill -0 $daemon 2>/dev/null || break; sleep 0.1; done
            timeout 60 "$VT" -c '"listed: " + ((Get-UsbIpDevice -ComputerName 127.0.0.1).BusId -join ",")'
            kill -TERM $daemon
            wait $daemon
            echo "daemon exit: $?"
            """;
        var start = new System.Diagnostics.ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-n", "sh", "-c", Script }) start.ArgumentList.Add(argument);
        start.Environment["VT"] = Path.Combine(RepositoryPaths.Root, "out", "virttools");
        start.Environment["ROOT"] = tree.Path;
        start.Environment["WORK"] = work.Path;
        using var shell = System.Diagnostics.Process.Start(start)!;
        var errors = shell.StandardError.ReadToEndAsync();
        var output = shell.StandardOutput.ReadToEndAsync();
        if (!shell.WaitForExit(120_000)) shell.Kill(entireProcessTree: true);
        var log = work.Read("/err") ?? "";
        var said = $"{output.Result}\n{errors.Result}\n{log}";

        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("ipv6 off on lo: 1", said);
        Assert.Contains("listed: 2-3", said);
        Assert.Contains("daemon exit: 0", said);
        Assert.Contains("listening on 127.0.0.1:3240", log);
        Assert.DoesNotContain("::1]:", log);
    }

    /// <summary>A writer the daemon's threads may share, and a way to read what it holds so far.</summary>
    private static (TextWriter Writer, Func<string> Text) Shared()
    {
        var text = new StringWriter();
        var writer = TextWriter.Synchronized(text); // locks itself around every write
        return (writer, () =>
        {
            lock (writer) return text.ToString();
        });
    }

    [Theory]
    [InlineData("--allow", "10.0.0.1/8", "the network is 10.0.0.0/8", "[UsbIpInvalidAllowedClient]")]
    [InlineData("--allow", "10/8", "'10' is not a whole IPv4 address", "[UsbIpInvalidAllowedClient]")]
    [InlineData("--address", "3240", "--address '3240' is not a whole IPv4 address", "usage: virttools usbipd")]
    public void Usbipd_refuses_an_argument_outside_the_grammar_and_says_why(string option, string value, string why, string more)
    {
        var error = new StringWriter();
        Assert.Equal(2, VirtTools.Host.Program.Run(new[] { "usbipd", option, value }, new StringWriter(), error));
        Assert.Contains(why, error.ToString());
        Assert.Contains(more, error.ToString());
    }

    [Fact]
    public void Start_UsbIpServer_with_no_address_listens_on_loopback_only()
    {
        var server = _ps.Ok<UsbIpServer>("param($r) Start-UsbIpServer -Root $r -TcpPort 0", new Dictionary<string, object?> { ["r"] = CapturedFixture.Shared }).Single();
        try
        {
            Assert.Equal("127.0.0.1", server.Address[0]);
            Assert.Subset(new HashSet<string> { "127.0.0.1", "::1" }, server.Address.ToHashSet());
        }
        finally
        {
            _ps.Ok("param($s) $s | Stop-UsbIpServer", new Dictionary<string, object?> { ["s"] = server });
        }
    }

    [Fact]
    public void Start_UsbIpServer_WhatIf_says_it_would_listen_on_loopback()
    {
        Assert.Empty(_ps.Ok("Start-UsbIpServer -WhatIf"));
        Assert.Contains("loopback (127.0.0.1, ::1)", _ps.HostText);
    }

    [Theory]
    [InlineData("-AllowedClient 10.0.0.1/8", "UsbIpInvalidAllowedClient", "the network is 10.0.0.0/8", "10.0.0.1/8")]
    [InlineData("-AllowedClient 3240", "UsbIpInvalidAllowedClient", "'3240' is not a whole IPv4 address", "3240")]
    [InlineData("-Address 3240", "UsbIpInvalidAddress", "'3240' is not a whole IPv4 address", "3240")]
    public void Start_UsbIpServer_refuses_an_argument_outside_the_grammar_with_its_ErrorId(string arguments, string errorId, string why, string target)
    {
        var result = _ps.Run($"Start-UsbIpServer -TcpPort 0 {arguments}");
        var error = result.Terminating?.ErrorRecord ?? result.Errors.Single();
        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Contains(why, error.Exception.Message);
        Assert.Equal(target, error.TargetObject);
    }

    public void Dispose() => _ps.Dispose();
}
