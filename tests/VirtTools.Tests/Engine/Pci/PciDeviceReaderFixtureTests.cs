using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>The captured Debian 6.1 tree: an e1000 on vfio-pci, a QEMU xHCI with MSI-X, the ICH9 functions in group 4.</summary>
public sealed class PciDeviceReaderFixtureTests
{
    private static PciDeviceReader Reader => new(new SystemRoot(CapturedFixture.Shared));

    [Fact]
    public void The_e1000_is_bound_to_vfio_pci_with_its_override()
    {
        var nic = Reader.Get(PciAddress.Parse("0000:00:02.0"));
        Assert.Equal(("8086", "100e", "0x020000"), (nic.VendorId, nic.DeviceId, nic.ClassCode));
        Assert.Equal("vfio-pci", nic.Driver);
        Assert.Equal("vfio-pci", nic.DriverOverride);
        Assert.True(nic.IsVfioBound);
        Assert.Equal(2, nic.IommuGroup);
        Assert.Equal("03", nic.Revision);
    }

    [Fact]
    public void A_null_driver_override_reads_as_null()
    {
        Assert.Null(Reader.Get(PciAddress.Parse("00:01.0")).DriverOverride);
    }

    [Fact]
    public void The_short_address_form_means_domain_0000()
    {
        Assert.Equal("0000:00:1f.3", Reader.Get(PciAddress.Parse("00:1F.3")).Address.ToString());
    }

    [Fact]
    public void An_unknown_address_is_PciDeviceNotFound()
    {
        Assert.Equal(PciErrors.DeviceNotFoundId, Assert.ThrowsAny<VirtTools.Diagnostics.VirtToolsException>(() => Reader.Get(PciAddress.Parse("00:09.0"))).ErrorId);
        Assert.Null(Reader.Find(PciAddress.Parse("00:09.0")));
    }

    [Fact]
    public void The_xhci_has_three_msix_vectors_and_keeps_its_intx_irq()
    {
        var xhci = Reader.Get(PciAddress.Parse("0000:00:01.0"));
        Assert.Equal(3, xhci.MsiVectors);
        Assert.Equal(PciMsiKind.MsiX, xhci.MsiKind);
        Assert.Equal(21, xhci.Irq); // MSI-X leaves sysfs irq on the INTx line
        Assert.Equal(10, xhci.InterruptLine); // the firmware's PIC-era value, not what the IO-APIC routes
    }

    [Fact]
    public void Id_Name_and_Msi_say_what_lspci_says_of_a_function()
    {
        var xhci = Reader.Get(PciAddress.Parse("0000:00:01.0"));
        Assert.Equal($"{xhci.VendorId}:{xhci.DeviceId}", xhci.Id);
        Assert.Equal("3 MsiX", xhci.Msi);
        // The captured tree carries no pci.ids: the name falls back to the class.
        Assert.Equal(xhci.DeviceName is null ? xhci.ClassName ?? "" : $"{xhci.VendorName} {xhci.DeviceName}".Trim(), xhci.Name);
        Assert.All(Reader.GetDevices().Where(d => d.MsiVectors == 0), d => Assert.Null(d.Msi));
    }

    [Fact]
    public void Interrupt_pins_come_from_config_space()
    {
        var pins = Reader.GetDevices().ToDictionary(d => d.Address.ToString(), d => d.InterruptPin);
        Assert.Equal(PciInterruptPin.None, pins["0000:00:00.0"]);
        Assert.Equal(PciInterruptPin.A, pins["0000:00:01.0"]);
        Assert.Equal(PciInterruptPin.A, pins["0000:00:02.0"]);
        Assert.Equal(PciInterruptPin.None, pins["0000:00:1f.0"]);
        Assert.Equal(PciInterruptPin.A, pins["0000:00:1f.2"]);
    }

    [Fact]
    public void A_4096_byte_config_marks_the_xhci_as_pci_express_able_to_mask_intx()
    {
        var xhci = Reader.Get(PciAddress.Parse("0000:00:01.0"));
        Assert.True(xhci.IsPciExpress);
        Assert.True(xhci.SupportsIntxMasking);
        var nic = Reader.Get(PciAddress.Parse("0000:00:02.0"));
        Assert.False(nic.IsPciExpress); // 256 bytes, no Express capability
        Assert.Null(nic.SupportsIntxMasking);
    }

    [Fact]
    public void Reset_methods_and_numa_node_absent_or_unset_are_null()
    {
        var nic = Reader.Get(PciAddress.Parse("0000:00:02.0"));
        Assert.Null(nic.ResetMethods); // this capture has no reset_method files
        Assert.Null(nic.NumaNode); // the kernel says -1
    }

    [Fact]
    public void Host_and_isa_bridges_are_not_pci_bridges()
    {
        Assert.All(Reader.GetDevices(), d => Assert.False(d.IsBridge));
        Assert.Equal(0, Reader.Get(PciAddress.Parse("0000:00:1f.0")).HeaderType);
    }

    [Fact]
    public void Sysfs_path_and_root_name_where_the_device_was_read()
    {
        var nic = Reader.Get(PciAddress.Parse("0000:00:02.0"));
        Assert.Equal("/sys/devices/pci0000:00/0000:00:02.0", nic.SysfsPath);
        Assert.Equal(new SystemRoot(CapturedFixture.Shared).Path, nic.Root);
    }

    [Fact]
    public void Names_come_from_a_pci_ids_under_the_root()
    {
        using var copy = CapturedFixture.CreateCopy();
        copy.File("/usr/share/misc/pci.ids", "8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet Controller\nC 02  Network controller\n\t00  Ethernet controller\n");
        var nic = new PciDeviceReader(new SystemRoot(copy.Path)).Get(PciAddress.Parse("0000:00:02.0"));
        Assert.Equal(("Intel Corporation", "82540EM Gigabit Ethernet Controller", "Ethernet controller"), (nic.VendorName, nic.DeviceName, nic.ClassName));
    }

    [Fact]
    public void Names_come_from_the_pci_ids_database_Debian_installs()
    {
        const string installed = "/usr/share/misc/pci.ids";
        Assert.True(File.Exists(installed), $"{installed} is missing: install the Debian package pci.ids (tests/run does)");
        using var copy = CapturedFixture.CreateCopy();
        copy.Directory("/usr/share/misc");
        File.Copy(installed, copy.Resolve(installed));
        var xhci = new PciDeviceReader(new SystemRoot(copy.Path)).Get(PciAddress.Parse("0000:00:01.0"));
        Assert.Equal(("Red Hat, Inc.", "QEMU XHCI Host Controller", "XHCI"), (xhci.VendorName, xhci.DeviceName, xhci.ClassName));
    }

    [Fact]
    public void Without_pci_ids_in_the_tree_or_on_the_system_names_are_null()
    {
        using var bareSystem = new TemporaryTree("system");
        var reader = new PciDeviceReader(new SystemRoot(CapturedFixture.Shared), new SystemRoot(bareSystem.Path));
        Assert.Null(reader.Names);
        Assert.All(reader.GetDevices(), d => Assert.Equal((null, null, null, null), (d.VendorName, d.DeviceName, d.ClassName, d.NameSource)));
    }

    [Fact]
    public void A_tree_without_pci_ids_is_named_from_the_system_s_and_says_so()
    {
        using var system = new TemporaryTree("system")
            .File("/usr/share/hwdata/pci.ids", "8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet Controller\nC 02  Network controller\n\t00  Ethernet controller\n");
        var reader = new PciDeviceReader(new SystemRoot(CapturedFixture.Shared), new SystemRoot(system.Path));
        var nic = reader.Get(PciAddress.Parse("0000:00:02.0"));
        Assert.Equal(("Intel Corporation", "82540EM Gigabit Ethernet Controller", "Ethernet controller"), (nic.VendorName, nic.DeviceName, nic.ClassName));
        Assert.Equal(system.Resolve("/usr/share/hwdata/pci.ids"), nic.NameSource);
        Assert.Equal("Intel Corporation 82540EM Gigabit Ethernet Controller", nic.Name);
        Assert.Equal(new[] { "Ethernet controller", "Network controller" }, reader.ClassNames(nic));
    }
}
