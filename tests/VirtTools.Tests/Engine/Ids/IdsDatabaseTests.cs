using System.Text;
using VirtTools.Ids;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Ids;

/// <summary>The ids format as usb.ids and pci.ids write it; blocks are parsed when first asked for, so each test asks.</summary>
public sealed class IdsDatabaseTests
{
    private const string Sample =
        "#\n# A comment\n#\n" +
        "1af4  Red Hat, Inc.\n" +
        "\t1000  Virtio network device\n" +
        "\t\t1af4 0001  Virtio network device\n" +
        "# a comment inside a block ends nothing\n" +
        "\t1001  Virtio block device\n" +
        "8086  Intel Corporation\n" +
        "\t100e  82540EM Gigabit Ethernet Controller\n" +
        "\t\t8086 001e  PRO/1000 MT Desktop Adapter\n" +
        "C 0c  Serial bus controller\n" +
        "\t03  USB controller\n" +
        "\t\t30  XHCI\n" +
        "L 0001  Arabic\n" +
        "\t0001  Saudi Arabia\n" +
        "C 02  Network controller\n" +
        "\t00  Ethernet controller\n";

    private static IdsDatabase Database(string text) => IdsDatabase.Parse(Encoding.UTF8.GetBytes(text), "sample.ids");

    [Fact]
    public void Vendor_device_and_subsystem_names_come_from_their_block()
    {
        var ids = Database(Sample);
        Assert.Equal("Intel Corporation", ids.VendorName(0x8086));
        Assert.Equal("82540EM Gigabit Ethernet Controller", ids.DeviceName(0x8086, 0x100e));
        Assert.Equal("PRO/1000 MT Desktop Adapter", ids.SubsystemName(0x8086, 0x100e, 0x8086, 0x001e));
        Assert.Equal("Virtio network device", ids.SubsystemName(0x1af4, 0x1000, 0x1af4, 0x0001));
    }

    [Fact]
    public void A_comment_line_inside_a_vendor_block_does_not_end_it()
    {
        Assert.Equal("Virtio block device", Database(Sample).DeviceName(0x1af4, 0x1001));
    }

    [Fact]
    public void Class_names_are_the_most_specific_known()
    {
        var ids = Database(Sample);
        Assert.Equal("XHCI", ids.ClassName(0x0c, 0x03, 0x30));
        Assert.Equal("USB controller", ids.ClassName(0x0c, 0x03, 0x99));
        Assert.Equal("Serial bus controller", ids.ClassName(0x0c, 0x77));
        Assert.Equal("Ethernet controller", ids.ClassName(0x02, 0x00));
    }

    [Fact]
    public void Lines_under_other_sections_name_nothing()
    {
        var ids = Database(Sample);
        Assert.Null(ids.VendorName(0x0001));
        Assert.Null(ids.DeviceName(0x0001, 0x0001));
    }

    [Fact]
    public void Unknown_ids_and_missing_ids_are_null()
    {
        var ids = Database(Sample);
        Assert.Null(ids.VendorName(0x10de));
        Assert.Null(ids.VendorName(null));
        Assert.Null(ids.DeviceName(0x8086, 0xffff));
        Assert.Null(ids.DeviceName(0x8086, null));
        Assert.Null(ids.SubsystemName(0x8086, 0x100e, 0x1234, 0x5678));
        Assert.Null(ids.ClassName(0x42));
    }

    [Fact]
    public void A_byte_order_mark_and_CRLF_line_ends_change_no_name()
    {
        var ids = Database("\uFEFF" + "8086  Intel Corporation\r\n\t100e  82540EM\r\n");
        Assert.Equal("Intel Corporation", ids.VendorName(0x8086));
        Assert.Equal("82540EM", ids.DeviceName(0x8086, 0x100e));
    }

    [Fact]
    public void A_vendor_line_without_a_name_names_neither_it_nor_its_devices()
    {
        var ids = Database("8086  \n\t100e  82540EM\n");
        Assert.Null(ids.VendorName(0x8086));
        Assert.Null(ids.DeviceName(0x8086, 0x100e));
    }

    [Fact]
    public void Names_outside_ASCII_read_as_UTF8()
    {
        Assert.Equal("Tóth Électronique", Database("1234  Tóth Électronique\n").VendorName(0x1234));
    }

    [Fact]
    public void A_changed_file_under_the_root_is_read_again()
    {
        using var tree = new TemporaryTree("ids");
        tree.File("/usr/share/misc/pci.ids", "8086  Intel Corporation\n");
        var root = new SystemRoot(tree.Path);
        Assert.Equal("Intel Corporation", IdsDatabase.ForPci(root)!.VendorName(0x8086));
        Assert.Same(IdsDatabase.ForPci(root), IdsDatabase.ForPci(root));

        tree.File("/usr/share/misc/pci.ids", "8086  Intel Corp.\n");
        File.SetLastWriteTimeUtc(tree.Resolve("/usr/share/misc/pci.ids"), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal("Intel Corp.", IdsDatabase.ForPci(root)!.VendorName(0x8086));
    }
}
