using System.Globalization;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// The agent's passes on the captured tree behind the kernel double: what it applies at start, what it keeps
/// applying (exports, reconnecting attachments), and how it backs off from a failing item.
/// </summary>
public sealed class VirtHostAgentTests : IDisposable
{
    private const string Profile =
        """
        usbip:
          exports:
            - match: { busId: "1-2" }
          attachments:
            - computerName: 127.0.0.1
              match: { busId: "2-3" }
              reconnect: RECONNECT
        ksm: { pagesToScan: 1000 }
        """;

    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly RecordingExporter _exporter = new();
    private readonly RecordingAttacher _attacher = new();
    private readonly ManualClock _clock = new();
    private readonly List<string> _log = new();

    private VirtHostAgent Agent(IUsbIpAttachmentApplier? attacher = null, bool reconnect = true)
    {
        var agent = new VirtHostAgent(_kernel.Root, _exporter, attacher ?? _attacher, _log.Add, _clock);
        agent.Load(VirtHostConfigParser.Parse(Profile.Replace("RECONNECT", reconnect ? "true" : "false"), "agent.yaml", _kernel.RootPath));
        return agent;
    }

    private string? PagesToScan => _kernel.Tree.Read("/sys/kernel/mm/ksm/pages_to_scan")?.Trim();

    /// <summary>The link drops: the kernel frees the vhci port (the record `usbip attach` left stays behind).</summary>
    private void DropAttachment()
    {
        var port = new VhciReader(_kernel.Root).GetPorts().Single(p => p.IsInUse && p.RemoteHost == "127.0.0.1");
        SysfsWriter.Write(_kernel.Root, "/sys/devices/platform/vhci_hcd.0/detach", port.Port.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_first_pass_applies_the_whole_profile()
    {
        var after = Agent().Pass();
        Assert.All(after, d => Assert.True(d.InSync, $"{d.Item}: {d.Actual} ({d.Outcome}: {d.Message})"));
        Assert.Equal("1000", PagesToScan);
        Assert.Equal(new[] { "1-2" }, _exporter.Exported);
        Assert.Single(_attacher.Attached);
        Assert.Equal(3, _log.Count(line => line.StartsWith("applied: ", StringComparison.Ordinal)));
    }

    [Fact]
    public void KSM_is_applied_at_start_and_on_reload_not_on_every_pass()
    {
        var agent = Agent();
        agent.Pass();
        _kernel.Tree.File("/sys/kernel/mm/ksm/pages_to_scan", "100");
        agent.Pass();
        Assert.Equal("100", PagesToScan);
        agent.Load(VirtHostConfigParser.Parse(Profile.Replace("RECONNECT", "true"), "agent.yaml", _kernel.RootPath));
        agent.Pass();
        Assert.Equal("1000", PagesToScan);
    }

    [Fact]
    public void An_export_that_drifts_later_is_exported_again_on_the_next_pass()
    {
        var agent = Agent();
        agent.Pass();
        SysfsWriter.Write(_kernel.Root, "/sys/bus/usb/drivers/usbip-host/unbind", "1-2");
        agent.Pass();
        Assert.Equal(new[] { "1-2", "1-2" }, _exporter.Exported);
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf("1-2"));
    }

    [Fact]
    public void A_reconnecting_attachment_that_dropped_is_attached_again()
    {
        var agent = Agent();
        agent.Pass();
        DropAttachment();
        var after = agent.Pass();
        Assert.Equal(2, _attacher.Attached.Count);
        Assert.True(after.Single(d => d.Area == VirtHostArea.UsbIpAttachment).InSync);
    }

    [Fact]
    public void An_attachment_without_reconnect_is_made_at_start_only()
    {
        var agent = Agent(reconnect: false);
        agent.Pass();
        DropAttachment();
        var after = agent.Pass();
        Assert.Single(_attacher.Attached);
        Assert.False(after.Single(d => d.Area == VirtHostArea.UsbIpAttachment).InSync);
    }

    [Fact]
    public void A_failing_attachment_backs_off_exponentially_and_recovers_when_the_server_is_back()
    {
        var server = new FlakyAttacher(_attacher) { Down = true };
        var agent = Agent(server);
        agent.Pass();                                  // t=0: fails, waits 1 s
        _clock.Advance(TimeSpan.FromSeconds(0.5));
        agent.Pass();                                  // not due
        _clock.Advance(TimeSpan.FromSeconds(0.5));
        agent.Pass();                                  // t=1: fails, waits 2 s
        _clock.Advance(TimeSpan.FromSeconds(1));
        agent.Pass();                                  // t=2: not due
        Assert.Equal(2, server.Calls);
        Assert.Contains(_log, line => line.Contains("next try in 2 s", StringComparison.Ordinal));

        server.Down = false;
        _clock.Advance(TimeSpan.FromSeconds(1));
        var after = agent.Pass();                      // t=3: due, the server is back
        Assert.Equal(3, server.Calls);
        Assert.True(after.Single(d => d.Area == VirtHostArea.UsbIpAttachment).InSync);
        Assert.Contains(_log, line => line.StartsWith("applied: Attach", StringComparison.Ordinal) && line.Contains("after 2 failed attempts", StringComparison.Ordinal));
    }

    [Fact]
    public void A_profile_that_cannot_be_applied_is_logged_and_nothing_is_written()
    {
        var agent = new VirtHostAgent(_kernel.Root, _exporter, _attacher, _log.Add, _clock);
        // 1-1 and 1-2 are both QEMU 0627:0001 devices: the match is ambiguous.
        agent.Load(VirtHostConfigParser.Parse("usbip:\n  exports:\n    - match: { vendorId: \"0627\", productId: \"0001\" }\nksm: { pagesToScan: 1000 }\n", "agent.yaml", _kernel.RootPath));
        Assert.Empty(agent.Pass());
        Assert.Empty(_kernel.Writes);
        Assert.Contains(_log, line => line.StartsWith("profile not applied: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_KSM_item_the_host_refuses_is_logged_when_tried_not_on_every_pass()
    {
        Directory.Delete(Path.Combine(_kernel.RootPath, "sys/kernel/mm/ksm"), recursive: true);
        var agent = Agent();
        for (int pass = 0; pass < 4; pass++)
        {
            agent.Pass();
            _clock.Advance(TimeSpan.FromMinutes(10));
        }
        Assert.Single(_log, line => line.StartsWith("failed: ksm.pagesToScan", StringComparison.Ordinal));

        agent.Load(VirtHostConfigParser.Parse(Profile.Replace("RECONNECT", "true"), "agent.yaml", _kernel.RootPath));
        agent.Pass();                                  // a reload owes the start-up items again
        Assert.Equal(2, _log.Count(line => line.StartsWith("failed: ksm.pagesToScan", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_export_that_cannot_be_recorded_is_one_rolled_back_line_and_the_pass_goes_on()
    {
        // A file where the export's record folder should be: the export is undone once its record cannot be saved.
        Directory.CreateDirectory(_kernel.Tree.Resolve("/run"));
        File.WriteAllText(_kernel.Tree.Resolve("/run/virttools"), "not a folder\n");

        var after = Agent().Pass();

        Assert.Equal(SyncOutcome.RolledBack, after.Single(d => d.Area == VirtHostArea.UsbIpExport).Outcome);
        Assert.Single(_log, line => line.StartsWith("rolled back: Export 1-2 ", StringComparison.Ordinal)
            && line.Contains("Rolled back: 1-2", StringComparison.Ordinal) && line.EndsWith("(next try in 1 s)", StringComparison.Ordinal));
        Assert.DoesNotContain(_log, line => line.StartsWith("pass failed: ", StringComparison.Ordinal));
        Assert.Equal("1000", PagesToScan);
        Assert.Single(_attacher.Attached);
    }

    [Fact]
    public void An_export_record_file_that_is_not_one_fails_the_export_alone_and_the_pass_goes_on()
    {
        _kernel.Tree.File("/run/virttools/usbip-exports.json", "[ { \"busId\": \"../x\" } ]");

        Agent().Pass();

        Assert.DoesNotContain(_log, line => line.StartsWith("pass failed: ", StringComparison.Ordinal) || line.StartsWith("profile not applied: ", StringComparison.Ordinal));
        Assert.Single(_log, line => line.StartsWith("rolled back: Export 1-2 ", StringComparison.Ordinal)
            && line.Contains("usbip-exports.json is not a VirtTools record file", StringComparison.Ordinal));
        Assert.Equal("usb", _kernel.Usb.DriverOf("1-2"));
        Assert.Equal("1000", PagesToScan);
        Assert.Single(_attacher.Attached);
    }

    public void Dispose() => _kernel.Dispose();

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>A server that refuses imports while <see cref="Down"/>, as an unreachable one does.</summary>
    private sealed class FlakyAttacher(IUsbIpAttachmentApplier inner) : IUsbIpAttachmentApplier
    {
        public bool Down { get; set; }

        public int Calls { get; private set; }

        public void Attach(SystemRoot root, UsbIpAttachmentRule rule, CancellationToken cancellation)
        {
            Calls++;
            if (Down) throw new VirtToolsException("UsbIpServerUnreachable", FailureKind.ConnectionError, $"{rule.ComputerName}:{rule.TcpPort} refused the connection.");
            inner.Attach(root, rule, cancellation);
        }
    }
}
