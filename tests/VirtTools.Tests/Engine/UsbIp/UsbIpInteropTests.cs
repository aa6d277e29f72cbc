using System.Diagnostics;
using VirtTools.Ids;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Client;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Our server against the kernel's own client (Debian's usbip package, /usr/sbin/usbip): it must list what our
/// server serves from the captured tree exactly as it would list it from usbipd on that machine.
/// </summary>
public sealed class UsbIpInteropTests
{
    private const string UsbipTool = "/usr/sbin/usbip";

    [Fact]
    public async Task Kernel_usbip_list_shows_our_servers_device_exactly_as_from_usbipd()
    {
        Assert.True(File.Exists(UsbipTool), $"{UsbipTool} is missing: install Debian's usbip package (.ci/run does).");
        await using var server = new UsbIpServerFixture(privateCopy: true);
        var (exitCode, output, error) = await RunAsync(UsbipTool, "--tcp-port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "list", "-r", "127.0.0.1");

        // usbip_list.c prints "%11s: %s" per field; names come from this machine's usb.ids as usbip reads it.
        var names = IdsDatabase.ForUsb(SystemRoot.Live);
        var vendor = names?.VendorName(0x46f4) ?? "unknown vendor";
        var interfaceClass = names is null ? "unknown class / unknown subclass / unknown protocol"
            : $"{names.ClassName(0x08)} / {names.ClassName(0x08, 0x06)} / {names.ClassName(0x08, 0x06, 0x50)}";
        var expected =
            "Exportable USB devices\n" +
            "======================\n" +
            " - 127.0.0.1\n" +
            $"        2-3: {vendor} : unknown product (46f4:0001)\n" +
            "           : /sys/devices/pci0000:00/0000:00:01.0/usb2/2-3\n" +
            "           : (Defined at Interface level) (00/00/00)\n" +
            $"           :  0 - {interfaceClass} (08/06/50)\n" +
            "\n";
        Assert.True(exitCode == 0, $"usbip exited with {exitCode}: {error}");
        Assert.Equal(expected, output);
    }

    [Fact]
    public async Task Get_UsbIpDevice_engine_lists_the_same_device_the_kernel_client_sees()
    {
        await using var server = new UsbIpServerFixture(privateCopy: false);
        var (_, output, _) = await RunAsync(UsbipTool, "--tcp-port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "list", "-r", "127.0.0.1");
        var device = Assert.Single(await UsbIpClient.GetDevicesAsync("127.0.0.1", server.Port, TimeSpan.FromSeconds(10), IdsDatabase.ForUsb(SystemRoot.Live)));
        Assert.Contains($"        {device.BusId}: {device.VendorName ?? "unknown vendor"} : {device.ProductName ?? "unknown product"} ({device.VendorId}:{device.ProductId})\n", output);
        Assert.Contains($"           : {device.Path}\n", output);
        var item = Assert.Single(device.Interfaces);
        Assert.Contains($"           :  0 - ", output);
        Assert.Contains($"({item.Class}/{item.SubClass}/{item.Protocol})\n", output);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        return (process.ExitCode, await output, await error);
    }
}
