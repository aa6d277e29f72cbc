namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>What this process's epoll sets watch, as the kernel lists it: the "tfd:" lines of each set's fdinfo.</summary>
internal static class EpollSetsProbe
{
    public static HashSet<int> WatchedDescriptors()
    {
        var watched = new HashSet<int>();
        foreach (var link in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(link).LinkTarget; } catch (IOException) { continue; }
            if (target != "anon_inode:[eventpoll]") continue;
            string[] lines;
            try { lines = File.ReadAllLines("/proc/self/fdinfo/" + Path.GetFileName(link)); } catch (IOException) { continue; }
            foreach (var line in lines)
                if (line.StartsWith("tfd:", StringComparison.Ordinal)) watched.Add(int.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]));
        }
        return watched;
    }
}
