using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Usb;

/// <summary>
/// USB/IP is built on USB, never the other way round: the USB area reads devices, their drivers and nodes, and the
/// USB/IP area (exports, vhci, containers) uses it. A type from VirtTools.UsbIp in the USB area needs its namespace
/// named in the file, so the source says whether the cycle is back.
/// </summary>
public sealed class UsbAreaDependencyTests
{
    [Fact]
    public void No_file_of_the_USB_area_uses_the_USB_IP_area()
    {
        var usbArea = Path.Combine(RepositoryPaths.Root, "src", "VirtTools.Engine", "Usb");
        var offenders = Directory.EnumerateFiles(usbArea, "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("VirtTools.UsbIp", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(RepositoryPaths.Root, f))
            .ToList();
        Assert.Empty(offenders);
    }
}
