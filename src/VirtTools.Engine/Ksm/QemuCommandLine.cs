namespace VirtTools.Ksm;

/// <summary>Finds the guest name in a QEMU command line (/proc/&lt;pid&gt;/cmdline, arguments separated by NUL).</summary>
public static class QemuCommandLine
{
    /// <summary>
    /// The value of -name: "-name foo", "-name foo,debug-threads=on" and libvirt's "-name guest=foo,debug-threads=on"
    /// all give "foo" (",," is QEMU's escaped comma). Null when the program is not QEMU or has no -name.
    /// </summary>
    public static string? VmName(string? cmdline)
    {
        if (string.IsNullOrEmpty(cmdline)) return null;
        var args = cmdline.Split('\0');
        if (!Path.GetFileName(args[0]).StartsWith("qemu", StringComparison.Ordinal)) return null;
        for (int i = 1; i < args.Length - 1; i++)
            if (args[i] is "-name" or "--name")
                return GuestName(args[i + 1]);
        return null;
    }

    private static string? GuestName(string options)
    {
        foreach (var option in SplitOptions(options))
        {
            int eq = option.IndexOf('=');
            if (eq < 0) return option.Length > 0 ? option : null;      // the implied first key is guest=
            if (option[..eq] == "guest") return option[(eq + 1)..];
        }
        return null;
    }

    private static IEnumerable<string> SplitOptions(string options)
    {
        var current = new System.Text.StringBuilder();
        for (int i = 0; i < options.Length; i++)
        {
            if (options[i] != ',') { current.Append(options[i]); continue; }
            if (i + 1 < options.Length && options[i + 1] == ',') { current.Append(','); i++; continue; }
            yield return current.ToString();
            current.Clear();
        }
        yield return current.ToString();
    }
}
