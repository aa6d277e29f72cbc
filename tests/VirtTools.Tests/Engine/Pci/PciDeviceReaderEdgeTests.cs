using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>Synthetic trees for what the capture does not show: odd content, older kernels, the MSI irq trap.</summary>
public sealed class PciDeviceReaderEdgeTests : IDisposable
{
    private const string Address = "0000:05:06.0";
    private readonly TemporaryTree _tree = new("pci-edge");

    private PciDevice Read() => new PciDeviceReader(new SystemRoot(_tree.Path)).Get(PciAddress.Parse(Address));

    [Fact]
    public void With_plain_msi_on_the_sysfs_irq_is_the_first_vector_so_the_intx_irq_is_null()
    {
        var dir = _tree.Function(Address, irq: 40, config: SyntheticPci.Config());
        _tree.Msi(dir, "msi", 40, 41);
        var device = Read();
        Assert.Null(device.Irq);
        Assert.Equal(40, device.SysfsIrq);
        Assert.Equal((2, PciMsiKind.Msi), (device.MsiVectors, device.MsiKind));
    }

    [Fact]
    public void Msi_irqs_directories_with_a_mode_file_from_kernels_before_3_13_are_understood()
    {
        var dir = _tree.Function(Address, config: SyntheticPci.Config());
        _tree.File(dir + "/msi_irqs/60/mode", "msix").File(dir + "/msi_irqs/61/mode", "msix");
        Assert.Equal((2, PciMsiKind.MsiX), (Read().MsiVectors, Read().MsiKind));
    }

    [Fact]
    public void A_garbage_short_config_file_leaves_config_fields_null()
    {
        _tree.Function(Address, config: new byte[] { 0x86, 0x80, 0x0e });
        var device = Read();
        Assert.Null(device.InterruptPin);
        Assert.Null(device.HeaderType);
        Assert.Null(device.IntxDisabled);
        Assert.Null(device.SupportsIntxMasking);
        Assert.Equal("8086", device.VendorId); // sysfs attributes still read
    }

    [Fact]
    public void A_missing_config_file_falls_back_to_the_class_for_bridges()
    {
        _tree.Function(Address, cls: "0x060400");
        var device = Read();
        Assert.Null(device.InterruptPin);
        Assert.True(device.IsBridge);
    }

    [Fact]
    public void Header_type_1_is_a_bridge_even_with_the_multifunction_bit()
    {
        _tree.Function(Address, cls: "0x060400", config: SyntheticPci.Config(headerType: 0x81), driver: "pcieport");
        Assert.True(Read().IsBridge);
        Assert.Equal(1, Read().HeaderType);
    }

    [Fact]
    public void Attributes_missing_on_older_kernels_are_null_never_zero()
    {
        _tree.Function(Address, config: SyntheticPci.Config());
        var device = Read();
        Assert.Null(device.ResetMethods);
        Assert.Null(device.DriverOverride);
        Assert.Null(device.NumaNode);
        Assert.Null(device.IommuGroup);
        Assert.Null(device.SubsystemVendorId);
        Assert.Null(device.Revision);
    }

    [Fact]
    public void Driver_override_null_text_is_null_and_a_name_is_kept()
    {
        var dir = _tree.Function(Address, config: SyntheticPci.Config());
        _tree.File(dir + "/driver_override", "(null)");
        Assert.Null(Read().DriverOverride);
        _tree.File(dir + "/driver_override", "vfio-pci");
        Assert.Equal("vfio-pci", Read().DriverOverride);
    }

    [Fact]
    public void Reset_methods_keep_the_kernel_order_and_empty_means_disabled()
    {
        var dir = _tree.Function(Address, config: SyntheticPci.Config());
        _tree.File(dir + "/reset_method", "flr bus");
        Assert.Equal(new[] { "flr", "bus" }, Read().ResetMethods);
        _tree.File(dir + "/reset_method", "");
        Assert.Empty(Read().ResetMethods!);
    }

    [Fact]
    public void A_pci_express_capability_in_a_readable_header_means_intx_masking_is_supported()
    {
        var config = SyntheticPci.Config(status: 0x0010, length: 256);
        config[0x34] = 0x40; config[0x40] = 0x01; config[0x41] = 0x50; // power management, then
        config[0x50] = 0x10; config[0x51] = 0x00;                       // PCI Express, end of list
        _tree.Function(Address, config: config);
        Assert.True(Read().IsPciExpress);
        Assert.True(Read().SupportsIntxMasking);
    }

    [Fact]
    public void A_looping_capability_list_ends_without_hanging()
    {
        var config = SyntheticPci.Config(status: 0x0010, length: 256);
        config[0x34] = 0x40; config[0x40] = 0x05; config[0x41] = 0x40;
        _tree.Function(Address, config: config);
        Assert.False(Read().IsPciExpress);
    }

    [Fact]
    public void A_set_DisINTx_bit_proves_masking_on_conventional_pci()
    {
        _tree.Function(Address, config: SyntheticPci.Config(command: 0x0407, length: 256));
        Assert.True(Read().IntxDisabled);
        Assert.True(Read().SupportsIntxMasking);
    }

    [Fact]
    public void A_kernel_quirk_overrides_pci_express_evidence()
    {
        _tree.Function(Address, vendor: "0x10ec", device: "0x8169", config: SyntheticPci.Config(length: 256));
        _tree.Bytes("/sys/devices/pci0000:00/" + Address + "/config", new byte[4096]);
        Assert.False(Read().SupportsIntxMasking);
        Assert.Contains("quirk", Read().IntxMaskingEvidence);
    }

    [Fact]
    public void A_vfio_variant_driver_counts_as_vfio_bound()
    {
        _tree.Function(Address, config: SyntheticPci.Config(), driver: "mlx5_vfio_pci");
        Assert.True(Read().IsVfioBound);
    }

    [Fact]
    public void Entries_that_are_not_pci_addresses_are_ignored()
    {
        _tree.Function(Address, config: SyntheticPci.Config());
        _tree.File("/sys/bus/pci/devices/garbage", "x");
        Assert.Equal(new[] { Address }, new PciDeviceReader(new SystemRoot(_tree.Path)).Addresses().Select(a => a.ToString()));
    }

    public void Dispose() => _tree.Dispose();
}
