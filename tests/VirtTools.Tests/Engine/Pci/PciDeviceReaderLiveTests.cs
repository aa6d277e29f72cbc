using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>
/// Against this machine's real kernel, whatever functions it has (none is fine): each result is compared with
/// /sys/bus/pci/devices read here. Read-only: nothing is ever bound or unbound.
/// </summary>
public sealed class PciDeviceReaderLiveTests
{
    private const string Devices = "/sys/bus/pci/devices";

    [Fact]
    public void Lists_exactly_the_functions_in_sys_bus_pci_devices() =>
        Assert.Equal(EntryNames(Devices), new PciDeviceReader(SystemRoot.Live).GetDevices().Select(d => d.Address.ToString()));

    [Theory]
    [InlineData("/sys")]
    [InlineData("/sys/bus/pci/devices")]
    public void A_machine_without_a_PCI_bus_or_with_no_functions_on_it_lists_none(string onlyFolder)
    {
        using var tree = new TemporaryTree("no-pci").Directory(onlyFolder);
        Assert.Empty(new PciDeviceReader(new SystemRoot(tree.Path)).GetDevices());
    }

    /// <summary>The entry names of a folder, sorted as the reader sorts addresses; none when the folder does not exist.</summary>
    private static List<string> EntryNames(string folder) =>
        Directory.Exists(folder) ? Directory.GetFileSystemEntries(folder).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList() : new();

    [Fact]
    public void Msi_vector_counts_equal_the_files_in_msi_irqs()
    {
        foreach (var device in new PciDeviceReader(SystemRoot.Live).GetDevices())
        {
            var msiDir = Path.Combine(Devices, device.Address.ToString(), "msi_irqs");
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
            var dir = Path.Combine(Devices, device.Address.ToString());
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "vendor")).Trim()[2..], device.VendorId);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "device")).Trim()[2..], device.DeviceId);
            Assert.Equal(File.ReadAllText(Path.Combine(dir, "class")).Trim(), device.ClassCode);
        }
    }
}
