using VirtTools.Pci;
using VirtTools.Sysfs;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>Against this machine's real kernel: /sys/bus/pci/devices is read-only here, never changed.</summary>
public sealed class PciDeviceReaderLiveTests
{
    private const string Devices = "/sys/bus/pci/devices";

    [Fact]
    public void Lists_exactly_the_functions_in_sys_bus_pci_devices()
    {
        var expected = Directory.GetFileSystemEntries(Devices).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList();
        var listed = new PciDeviceReader(SystemRoot.Live).GetDevices().Select(d => d.Address).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, listed);
    }

    [Fact]
    public void Msi_vector_counts_equal_the_files_in_msi_irqs()
    {
        foreach (var device in new PciDeviceReader(SystemRoot.Live).GetDevices())
        {
            var msiDir = Path.Combine(Devices, device.Address, "msi_irqs");
            var files = Directory.Exists(msiDir) ? Directory.GetFiles(msiDir) : Array.Empty<string>();
            Assert.Equal(files.Length, device.MsiVectors);
            var kinds = files.Select(f => File.ReadAllText(f).Trim()).ToHashSet();
            var expectedKind = kinds.Contains("msix") ? PciMsiKind.MsiX : kinds.Contains("msi") ? PciMsiKind.Msi : PciMsiKind.None;
            Assert.Equal(expectedKind, device.MsiKind);
        }
    }

    [Fact]
    public void Ids_and_class_match_the_sysfs_attributes()
    {
        foreach (var device in new PciDeviceReader(SystemRoot.Live).GetDevices())
        {
            var dir = Path.Combine(Devices, device.Address);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "vendor")).Trim()[2..], device.VendorId);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "device")).Trim()[2..], device.DeviceId);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "class")).Trim(), device.ClassCode);
        }
    }
}
