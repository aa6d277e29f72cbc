using System.Diagnostics;
using VirtTools.Host.Commands;
using VirtTools.Usb;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// `virttools usbipd --claim-port` on a sandbox of the captured host (2-3, a stick, on usbip-host; usb1 port 3 empty),
/// run in this process so the test plugs and unplugs through the same sandbox kernel the daemon claims ports on.
/// </summary>
public sealed class ClaimedPortDaemonTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly Double _kernel = Double.OnCapturedFixture();

    private static async Task Until(Func<bool> condition, string what, Func<string> log)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Deadline, $"{what} did not happen within {Deadline.TotalSeconds} s; the log: {log()}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task The_daemon_holds_reserved_and_unplugged_exported_ports_and_sends_a_replugged_device_straight_to_usbip_host()
    {
        var text = new StringWriter();
        var error = TextWriter.Synchronized(text);
        string Log() { lock (error) return text.ToString(); }
        using var stop = new CancellationTokenSource();
        var daemon = Task.Run(() => UsbIpDaemonCommand.Run(
            new[] { "usbipd", "--address", "127.0.0.1", "--port", "0", "--claim-port", "1-3", "--root", _kernel.RootPath }, TextWriter.Null, error, stop.Token));
        try
        {
            var ports = _kernel.Kernel.HubPorts;
            await Until(() => ports.Claimed.Contains(new HubPort(UsbBusId.Parse("usb1"), 3)), "claiming the reserved empty port 1-3", Log);
            Assert.DoesNotContain(new HubPort(UsbBusId.Parse("usb2"), 3), ports.Claimed); // usbip-host holds the stick's port itself

            _kernel.Usb.Unplug("2-3");
            await Until(() => ports.Claimed.Contains(new HubPort(UsbBusId.Parse("usb2"), 3)), "claiming the unplugged stick's port", Log);

            _kernel.Usb.Plug("2-3");
            await Until(() => Log().Contains("2-3: arrived on a claimed port and is exported", StringComparison.Ordinal), "exporting the replugged stick", Log);
            Assert.Equal("usbip-host", _kernel.Usb.DriverOf("2-3"));
            Assert.DoesNotContain(new HubPort(UsbBusId.Parse("usb2"), 3), ports.Claimed);
            Assert.DoesNotContain(_kernel.Writes, w => w.SystemPath.StartsWith("/sys/bus/usb/drivers/usb-storage/", StringComparison.Ordinal));
        }
        finally
        {
            stop.Cancel();
            // The daemon stops before the tree goes, whatever failed above.
            Assert.Equal(0, await daemon.WaitAsync(Deadline));
        }
        Assert.Empty(_kernel.Kernel.HubPorts.Claimed);
    }

    [Theory]
    [InlineData("usb1")]
    [InlineData("1-2:1.0")]
    public void A_claim_port_that_is_no_device_bus_id_prints_the_usage_and_exits_2(string port)
    {
        var error = new StringWriter();
        Assert.Equal(2, VirtTools.Host.Program.Run(new[] { "usbipd", "--claim-port", port }, TextWriter.Null, error));
        Assert.Contains($"--claim-port '{port}' is not a device bus id", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("usage: virttools usbipd", error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _kernel.Dispose();
}
