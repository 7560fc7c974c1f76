# bench/ratios.gp - draws bench/results/ratios.png; bench.sh calls it as
#   gnuplot -e "datafile='F'; outfile='O'; subtitle='S'" ratios.gp
# datafile: one line per scenario: "label" berth/crun runc/crun floor/crun target ("?" = none).
set terminal pngcairo size 1280,640 font "DejaVu Sans,11" noenhanced
set output outfile
set title "Time, memory and size as a ratio to crun (below 1 = better than crun)\n" . subtitle
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border rgb "#444444"
set boxwidth 0.9
set logscale y
set yrange [0.05:*]
set ytics ("0.05" 0.05, "0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100)
set grid ytics lc rgb "#dddddd"
set key outside bottom center horizontal maxrows 1 width 2
set xtics nomirror
set bmargin 4.5
set ylabel "ratio to crun (log scale)"
plot datafile using 2:xtic(1) title "berth" lc rgb "#1f77b4", \
     '' using 3 title "runc" lc rgb "#b0b0b0", \
     '' using 4 title "floor (no runtime)" lc rgb "#a1d99b", \
     '' using ($0 - 0.25):2:(sprintf("%.2f", $2)) with labels offset 0,0.8 font ",9" notitle, \
     '' using 0:5:($0 - 0.42):($0 + 0.42) with xerrorbars lc rgb "#d62728" lw 2.5 pt 0 title "target for berth", \
     1 with lines dt 2 lw 1.5 lc rgb "black" title "crun"
