SELECT count(*) AS total FROM {{filtered_tips}}
